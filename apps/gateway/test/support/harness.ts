import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { startMockLlm, type MockLlmHandle, type MockRequestRecord } from '@warden/mock-llm';
import type { Env } from '@warden/config';
import type { CallRecord } from '@warden/events';
import { createGatewayApp } from '../../src/configure-app';
import { waitFor } from './wait';

/** A running gateway on a random port, with the standalone mock LLM standing in for both real providers. */
export interface TestGateway {
  url: string;
  app: INestApplication;
  mock: MockLlmHandle;
  close(): Promise<void>;
}

/** Key the gateway sends to the (mock) providers, to assert which credential went upstream. */
export const GATEWAY_OPENAI_KEY = 'sk-gateway-openai-test-key';
export const GATEWAY_ANTHROPIC_KEY = 'sk-ant-gateway-test-key';

/**
 * Boots the real app (same `createGatewayApp` as main.ts) on port 0, with `gpt-*` routed to the mock's OpenAI API
 * and `claude-*` to its Anthropic API, so both formats and both conversion directions run over real HTTP.
 */
export async function startTestGateway(overrides: Env = {}, mock?: MockLlmHandle): Promise<TestGateway> {
  const upstream = mock ?? (await startMockLlm());
  const env: Env = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'error',
    // Each gateway gets its own in-memory history unless a test asks for a database.
    DATABASE_URL: 'sqlite::memory:',
    UPSTREAM_OPENAI_BASE_URL: `${upstream.url}/v1`,
    UPSTREAM_ANTHROPIC_BASE_URL: upstream.url,
    OPENAI_API_KEY: GATEWAY_OPENAI_KEY,
    ANTHROPIC_API_KEY: GATEWAY_ANTHROPIC_KEY,
    ...overrides,
  };
  const app = await createGatewayApp(env);
  await app.listen(0, env.HOST ?? '127.0.0.1');
  const server = app.getHttpServer() as Server;
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    app,
    mock: upstream,
    close: async () => {
      await app.close();
      if (mock === undefined) await upstream.close();
    },
  };
}

/** The mock's record of the last request it received. */
export function lastUpstreamRequest(gateway: TestGateway): MockRequestRecord {
  const record = gateway.mock.requests.at(-1);
  if (record === undefined) throw new Error('the mock received no request');
  return record;
}

/** POSTs an Anthropic Messages request as a client without an SDK does (the body as given, JSON). */
export function postMessages(
  gateway: TestGateway,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
    body: JSON.stringify(body),
  });
}

/** A call as `GET /api/calls/:id` returns it. */
export interface StoredCallView {
  call: CallRecord;
  events: Array<{ type: string; data: Record<string, unknown> }>;
}

/**
 * The history's record of the call `id` (the `x-warden-call-id` of its response) once `ready` says it is complete
 * (by default: no longer in progress); waits for the batched write.
 */
export async function storedCall(
  gateway: TestGateway,
  id: string,
  ready: (view: StoredCallView) => boolean = (view) => view.call.status !== 'in_progress',
): Promise<StoredCallView> {
  return waitFor(async () => {
    const res = await fetch(`${gateway.url}/api/calls/${id}`);
    if (res.status !== 200) return undefined;
    const view = (await res.json()) as StoredCallView;
    return ready(view) ? view : undefined;
  });
}

/** `<mock>…</mock>` directive the mock reads from the last user message. */
export function script(value: Record<string, unknown>): string {
  return `<mock>${JSON.stringify(value)}</mock>`;
}

/** Reads a whole SSE response body as text. */
export async function readText(res: Response): Promise<string> {
  return await res.text();
}

/** Parses raw SSE text into `{event, data}` frames (test-side, independent of the gateway's decoder). */
export function sseFrames(text: string): Array<{ event?: string; data: string }> {
  return text
    .split(/\n\n/)
    .filter((block) => block.trim().length > 0)
    .map((block) => {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      return { event, data: data.join('\n') };
    })
    .filter((frame) => frame.event !== undefined || frame.data.length > 0);
}
