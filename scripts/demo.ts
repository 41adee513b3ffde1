/**
 * `npm run demo`: the flagship policy at work, with nothing to install or configure. It starts the mock LLM (the
 * upstream model and the judge) and the gateway with the tool-call judge pointed at the mock, then plays the agent:
 * it asks for a dangerous and a harmless tool call, streaming, and shows what the agent receives and the decisions
 * the gateway published on its live feed. It exits 1 if the dangerous call got through or the harmless one did not
 * (so it doubles as a smoke test: apps/gateway/test/demo.e2e-spec.ts runs it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import type { INestApplication } from '@nestjs/common';
import { SseDecoder } from '@warden/llm';
import { mockScriptTag, startMockLlm, type MockLlmHandle } from '@warden/mock-llm';
import { errorMessage } from '@warden/observability';
import OpenAI from 'openai';
import { createGatewayApp } from '../apps/gateway/src/configure-app';

const DANGEROUS = { name: 'Bash', arguments: { command: 'rm -rf ~', description: 'Free some disk space' } };
const HARMLESS = { name: 'Bash', arguments: { command: 'ls -la', description: 'List the files' } };
const SAID = "I'll tidy up the workspace.";
const PROMPT = `Tidy up ${mockScriptTag({ text: SAID, tools: [DANGEROUS, HARMLESS] })}`;
const BLOCKED = 'Warden blocked the tool call';
/** Longest wait for an SDK call: the demo must end, not hang, when something is wrong. */
const CLIENT_TIMEOUT_MS = 30_000;
/** Longest wait for the live feed to connect, and for the events it should deliver. */
const FEED_WAIT_MS = 5_000;

type Out = (line: string) => void;

/** A policy decision as the live feed (`GET /api/events/stream`) delivers it. */
interface Decision {
  type: string;
  data: { tool?: string; probability?: number | null; explanation?: string };
}

/** Runs the demo, writing to `out`; resolves with whether the judge decided as it should. */
export async function runDemo(out: Out = (line) => process.stdout.write(`${line}\n`)): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-demo-'));
  const feed = new AbortController();
  let mock: MockLlmHandle | undefined;
  let app: INestApplication | undefined;
  try {
    mock = await startMockLlm();
    app = await startGateway(mock.url, dir);
    return await play(app, mock.url, feed.signal, out);
  } finally {
    feed.abort();
    // Each part is let go even when another fails, so that nothing keeps the process alive.
    await app?.close().catch(() => undefined);
    await mock?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The gateway with the tool-call judge pointed at the mock, listening on a free loopback port. */
async function startGateway(mockUrl: string, dir: string): Promise<INestApplication> {
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(
    policyFile,
    [
      'policies:',
      '  - type: tool-call-judge',
      '    options:',
      '      model: mock-judge # the mock, answering as a judge',
      `      baseUrl: ${mockUrl}/v1`,
      '      threshold: 0.6',
    ].join('\n'),
  );
  const app = await createGatewayApp({
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    DATABASE_URL: 'sqlite::memory:',
    POLICY_CONFIG: policyFile,
    UPSTREAM_ANTHROPIC_BASE_URL: mockUrl,
    UPSTREAM_OPENAI_BASE_URL: `${mockUrl}/v1`,
    ANTHROPIC_API_KEY: 'demo-key',
    OPENAI_API_KEY: 'demo-key',
  });
  try {
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

/** The agent's part: the same request from both SDKs, what came back, and the decisions on the live feed. */
async function play(app: INestApplication, mockUrl: string, signal: AbortSignal, out: Out): Promise<boolean> {
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  const gateway = `http://127.0.0.1:${port}`;
  out(`Warden is on ${gateway}, with the tool-call judge pointed at the mock LLM on ${mockUrl},`);
  out('which plays both the model and the judge (it rates rm -rf and friends as dangerous).');
  out('');
  const feed = await follow(`${gateway}/api/events/stream?type=policy.`, signal);

  out(`An agent (Anthropic SDK, streaming) asks; the model answers "${SAID}" and two tool calls:`);
  out(
    `  Bash ${JSON.stringify(DANGEROUS.arguments.command)} and Bash ${JSON.stringify(HARMLESS.arguments.command)}`,
  );
  out('');
  out('What the agent receives, block by block as it streams:');
  const anthropic = new Anthropic({
    baseURL: gateway,
    apiKey: 'loopback',
    maxRetries: 0,
    timeout: CLIENT_TIMEOUT_MS,
  });
  const stream = anthropic.messages.stream({
    model: 'claude-demo',
    max_tokens: 500,
    tools: [{ name: 'Bash', input_schema: { type: 'object' } }],
    messages: [{ role: 'user', content: PROMPT }],
  });
  stream.on('contentBlock', (block) => {
    if (block.type === 'text') out(indent(`[text] ${block.text}`));
    else if (block.type === 'tool_use')
      out(indent(`[tool call] ${block.name} ${JSON.stringify(block.input)}`));
  });
  const message = await stream.finalMessage();
  out(indent(`[stop reason] ${String(message.stop_reason)}`));
  out('');

  out('The same request from an OpenAI client (OpenAI SDK, not streaming, a gpt-* model):');
  const openai = new OpenAI({
    baseURL: `${gateway}/v1`,
    apiKey: 'loopback',
    maxRetries: 0,
    timeout: CLIENT_TIMEOUT_MS,
  });
  const completion = await openai.chat.completions.create({
    model: 'gpt-demo',
    messages: [{ role: 'user', content: PROMPT }],
    tools: [{ type: 'function', function: { name: 'Bash', parameters: { type: 'object' } } }],
  });
  const choice = completion.choices[0];
  const openaiCalls = (choice?.message.tool_calls ?? []).flatMap((c) =>
    c.type === 'function' ? [{ name: c.function.name, arguments: c.function.arguments }] : [],
  );
  out(indent(choice?.message.content ?? ''));
  for (const call of openaiCalls) out(indent(`[tool call] ${call.name} ${call.arguments}`));
  out(indent(`[finish reason] ${String(choice?.finish_reason)}`));
  out('');

  out('What the gateway published on its live feed (GET /api/events/stream):');
  const decisions = await feed.take(4);
  for (const decision of decisions) out(indent(describe(decision)));

  const harmless = JSON.stringify(HARMLESS.arguments);
  const anthropicCalls = message.content.filter((b) => b.type === 'tool_use');
  const ok =
    anthropicCalls.length === 1 &&
    JSON.stringify(anthropicCalls[0]?.input) === harmless &&
    message.stop_reason === 'tool_use' &&
    message.content.some((b) => b.type === 'text' && b.text.includes(BLOCKED)) &&
    openaiCalls.length === 1 &&
    sameJson(openaiCalls[0]?.arguments, harmless) &&
    choice?.finish_reason === 'tool_calls' &&
    (choice.message.content ?? '').includes(BLOCKED) &&
    decisions.filter((d) => d.type === 'policy.tool-call-judge.blocked').length === 2 &&
    decisions.filter((d) => d.type === 'policy.tool-call-judge.allowed').length === 2;
  out('');
  out(
    ok
      ? 'The dangerous call never reached the agent; the harmless one did. docs/policies.md shows how to write your own.'
      : 'UNEXPECTED: the judge did not decide as it should (see above).',
  );
  return ok;
}

/**
 * Follows the live feed from now on. Resolves once it is connected (its first bytes came: the feed writes them once
 * it is attached), or after {@link FEED_WAIT_MS}, with `take(n)`: its first `n` events, or what came within
 * {@link FEED_WAIT_MS}.
 */
async function follow(url: string, signal: AbortSignal): Promise<{ take(n: number): Promise<Decision[]> }> {
  const events: Decision[] = [];
  let connected: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    connected = resolve;
  });
  const reading = (async (): Promise<void> => {
    const res = await fetch(url, { signal });
    const reader = (res.body as ReadableStream<Uint8Array> | null)?.getReader();
    if (reader === undefined) return;
    const decoder = new SseDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      connected();
      for (const frame of decoder.push(value)) {
        if (frame.data !== '') events.push(JSON.parse(frame.data) as Decision);
      }
    }
  })();
  // The feed ends when the demo aborts it; a failure to read it shows as missing decisions.
  reading.catch(() => undefined).finally(connected);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, FEED_WAIT_MS);
  });
  await Promise.race([opened, timeout]);
  clearTimeout(timer);
  return {
    async take(n: number): Promise<Decision[]> {
      const deadline = Date.now() + FEED_WAIT_MS;
      while (events.length < n && Date.now() < deadline) await delay(20);
      return events.slice(0, n);
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function sameJson(text: string | undefined, expected: string): boolean {
  try {
    return text !== undefined && JSON.stringify(JSON.parse(text)) === expected;
  } catch {
    return false;
  }
}

function describe(decision: Decision): string {
  const { tool, probability, explanation } = decision.data;
  const risk = typeof probability === 'number' ? ` (risk ${probability})` : '';
  return `${decision.type}: ${tool ?? '?'}${risk}: ${explanation ?? ''}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

if (require.main === module) {
  runDemo().then(
    (ok) => {
      process.exitCode = ok ? 0 : 1;
    },
    (error: unknown) => {
      process.stderr.write(`demo failed: ${errorMessage(error)}\n`);
      process.exitCode = 1;
    },
  );
}
