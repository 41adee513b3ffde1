/**
 * The event contract between the control plane (producer) and the history (consumer). `data` fields per type:
 *
 * - `call.started`: `{ model, provider, clientFormat, upstreamFormat, stream, keyId }`
 * - `request.received`: `{ request }` — the body as the client sent it (client format)
 * - `request.forwarded`: `{ request, format }` — the body sent upstream (upstream format), after request policies;
 *   `{ format, unchanged: true }` when it is the received body byte for byte (stored once)
 * - `response.first_token`: `{ firstTokenMs }`
 * - `response.completed`: `{ original, final }` — the upstream message and the message the client got, both as
 *   canonical (Anthropic-shaped) messages, streamed calls assembled from their events, tool calls and thinking kept;
 *   `{ original, unchanged: true }` when the client got the upstream message unchanged (stored once)
 *   (the history stores these payloads in the call's payload columns; its stored events keep `{ $storedIn: 'call' }`
 *   pointers)
 * - `policy.<name>.<action>`: the policy's own data (e.g. `policy.tool-call-judge.blocked`)
 * - `policy.config.updated`: `{ version, policies }` (callId null)
 * - `call.completed`: `{ status, durationMs, firstTokenMs?, inputTokens?, outputTokens? }`
 * - `call.failed`: `{ error, status?, stream? }`
 */
export const EVENT_TYPES = {
  callStarted: 'call.started',
  requestReceived: 'request.received',
  requestForwarded: 'request.forwarded',
  firstToken: 'response.first_token',
  responseCompleted: 'response.completed',
  callCompleted: 'call.completed',
  callFailed: 'call.failed',
  policyConfigUpdated: 'policy.config.updated',
} as const;
