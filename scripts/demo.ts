/**
 * `npm run demo`: the flagship policy at work, with nothing to install or configure. It starts the mock LLM (the
 * upstream model and the judge) and the gateway with the tool-call judge pointed at the mock, then plays the agent:
 * it asks for a dangerous and a harmless tool call, streaming, and shows what the agent receives and the decisions
 * the gateway published on its live feed. It exits 1 if the dangerous call got through or the harmless one did not
 * (so it doubles as a smoke test: apps/gateway/test/demo.e2e-spec.ts runs it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { mockScriptTag, startMockLlm } from '@warden/mock-llm';
import OpenAI from 'openai';
import { createGatewayApp } from '../apps/gateway/src/configure-app';

const DANGEROUS = { name: 'Bash', arguments: { command: 'rm -rf ~', description: 'Free some disk space' } };
const HARMLESS = { name: 'Bash', arguments: { command: 'ls -la', description: 'List the files' } };
const SAID = "I'll tidy up the workspace.";
const TOOLS = [{ name: 'Bash', input_schema: { type: 'object' as const } }];

/** A policy decision as the live feed (`GET /api/events/stream`) delivers it. */
interface Decision {
  type: string;
  data: { tool?: string; probability?: number | null; explanation?: string; arguments?: string };
}

/** Runs the demo, writing to `out`; resolves with whether every step went as it should. */
export async function runDemo(
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-demo-'));
  const mock = await startMockLlm();
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(
    policyFile,
    [
      'policies:',
      '  - type: tool-call-judge',
      '    options:',
      '      model: mock-judge # the mock, answering as a judge: it rates rm -rf and friends as dangerous',
      `      baseUrl: ${mock.url}/v1`,
      '      threshold: 0.6',
    ].join('\n'),
  );
  const app = await createGatewayApp({
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    DATABASE_URL: 'sqlite::memory:',
    POLICY_CONFIG: policyFile,
    UPSTREAM_ANTHROPIC_BASE_URL: mock.url,
    UPSTREAM_OPENAI_BASE_URL: `${mock.url}/v1`,
    ANTHROPIC_API_KEY: 'demo-key',
    OPENAI_API_KEY: 'demo-key',
  });
  const feed = new AbortController();
  try {
    await app.listen(0, '127.0.0.1');
    const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
    const gateway = `http://127.0.0.1:${port}`;
    out(`Warden is on ${gateway}, with the tool-call judge (policy file ${policyFile}).`);
    out(`The model and the judge are the mock LLM on ${mock.url}.\n`);
    const decisions = follow(`${gateway}/api/events/stream?type=policy.`, feed.signal);

    out(`An agent (Anthropic SDK, streaming) asks; the model answers "${SAID}" and two tool calls:`);
    out(
      `  Bash ${JSON.stringify(DANGEROUS.arguments.command)} and Bash ${JSON.stringify(HARMLESS.arguments.command)}\n`,
    );
    out('What the agent receives, block by block as it streams:');
    const anthropic = new Anthropic({ baseURL: gateway, apiKey: 'loopback', maxRetries: 0 });
    const stream = anthropic.messages.stream({
      model: 'claude-demo',
      max_tokens: 500,
      tools: TOOLS,
      messages: [
        { role: 'user', content: `Tidy up ${mockScriptTag({ text: SAID, tools: [DANGEROUS, HARMLESS] })}` },
      ],
    });
    stream.on('contentBlock', (block) => {
      if (block.type === 'text') out(indent(`[text] ${block.text}`));
      else if (block.type === 'tool_use')
        out(indent(`[tool call] ${block.name} ${JSON.stringify(block.input)}`));
    });
    const message = await stream.finalMessage();
    const calls = message.content.filter((b) => b.type === 'tool_use');
    out(indent(`[stop reason] ${String(message.stop_reason)}`));
    out('');

    out('The same answer for an OpenAI client (OpenAI SDK, not streaming, a gpt-* model):');
    const openai = new OpenAI({ baseURL: `${gateway}/v1`, apiKey: 'loopback', maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: 'gpt-demo',
      messages: [
        { role: 'user', content: `Tidy up ${mockScriptTag({ text: SAID, tools: [DANGEROUS, HARMLESS] })}` },
      ],
      tools: [{ type: 'function', function: { name: 'Bash', parameters: { type: 'object' } } }],
    });
    const choice = completion.choices[0];
    out(indent(choice?.message.content ?? ''));
    for (const call of choice?.message.tool_calls ?? []) {
      if (call.type === 'function')
        out(indent(`[tool call] ${call.function.name} ${call.function.arguments}`));
    }
    out(indent(`[finish reason] ${String(choice?.finish_reason)}`));
    out('');

    out('What the gateway published on its live feed (GET /api/events/stream):');
    const seen = await decisions.take(4);
    for (const decision of seen) out(indent(describe(decision)));

    const passed = (input: unknown): boolean => JSON.stringify(input) === JSON.stringify(HARMLESS.arguments);
    const ok =
      calls.length === 1 &&
      passed(calls[0]?.input) &&
      message.content.some((b) => b.type === 'text' && b.text.includes('Warden blocked the tool call')) &&
      (choice?.message.tool_calls ?? []).length === 1 &&
      (choice?.message.content ?? '').includes('Warden blocked the tool call') &&
      seen.filter((d) => d.type.endsWith('.blocked')).length === 2 &&
      seen.filter((d) => d.type.endsWith('.allowed')).length === 2;
    out(
      ok
        ? '\nThe dangerous call never reached the agent; the harmless one did. Read docs/policies.md to write your own.'
        : '\nUNEXPECTED: the judge did not decide as it should (see above).',
    );
    return ok;
  } finally {
    feed.abort();
    await app.close();
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads the live feed from now on; `take(n)` resolves with its first `n` events (or what came within 5 s). */
function follow(url: string, signal: AbortSignal): { take(n: number): Promise<Decision[]> } {
  const events: Decision[] = [];
  const connected = fetch(url, { signal }).then(async (res) => {
    const reader = (res.body as ReadableStream<Uint8Array> | null)?.getReader();
    if (reader === undefined) return;
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trim())
          .join('\n');
        if (data !== '') events.push(JSON.parse(data) as Decision);
      }
    }
  });
  connected.catch(() => undefined);
  return {
    async take(n: number): Promise<Decision[]> {
      const deadline = Date.now() + 5_000;
      while (events.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return events.slice(0, n);
    },
  };
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
      process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
