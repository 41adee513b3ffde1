/**
 * Gateway overhead benchmark: the mock LLM alone (baseline) vs the same mock behind the gateway, in one run.
 * Mock and gateway run as separate processes (as in production); the load generator is this process.
 * Writes bench/results/latest.json and bench/results/latest.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Pool } from 'undici';

const ROOT = join(__dirname, '..', '..');
const RESULTS = join(ROOT, 'bench', 'results');
const LATENCY_REQUESTS = Number(process.env.BENCH_LATENCY_REQUESTS ?? 3000);
const STREAM_REQUESTS = Number(process.env.BENCH_STREAM_REQUESTS ?? 500);
const THROUGHPUT_SECONDS = Number(process.env.BENCH_THROUGHPUT_SECONDS ?? 5);
const WARMUP_REQUESTS = 500;
const CONCURRENCY = [1, 16, 64];
const STREAM_WORDS = 50;

const SMALL_BODY = JSON.stringify({
  model: 'gpt-bench',
  messages: [{ role: 'user', content: 'Hello, how are you today?' }],
});
const STREAM_BODY = JSON.stringify({
  model: 'claude-bench',
  max_tokens: 200,
  stream: true,
  messages: [{ role: 'user', content: `<mock>{"words":${STREAM_WORDS}}</mock>` }],
});

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not become ready`);
}

function start(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [join(ROOT, script)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

interface Stats {
  n: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
}

function stats(samplesMs: number[]): Stats {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number): number =>
    (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 1000;
  const mean = (sorted.reduce((s, v) => s + v, 0) / sorted.length) * 1000;
  return { n: sorted.length, meanUs: mean, p50Us: at(0.5), p90Us: at(0.9), p99Us: at(0.99) };
}

async function call(pool: Pool, path: string, body: string): Promise<{ totalMs: number; firstMs: number }> {
  const t0 = performance.now();
  const res = await pool.request({
    path,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body,
  });
  let firstMs = -1;
  for await (const _chunk of res.body) {
    if (firstMs < 0) firstMs = performance.now() - t0;
  }
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode} on ${path}`);
  return { totalMs: performance.now() - t0, firstMs };
}

async function sequential(origin: string, path: string, body: string, n: number) {
  const pool = new Pool(origin, { connections: 1 });
  for (let i = 0; i < Math.min(WARMUP_REQUESTS, n); i++) await call(pool, path, body);
  const total: number[] = [];
  const first: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await call(pool, path, body);
    total.push(r.totalMs);
    first.push(r.firstMs);
  }
  await pool.close();
  return { total: stats(total), first: stats(first) };
}

async function throughput(origin: string, path: string, body: string, connections: number): Promise<number> {
  const pool = new Pool(origin, { connections, pipelining: 1 });
  const warmEnd = performance.now() + 1000;
  const end = warmEnd + THROUGHPUT_SECONDS * 1000;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      await call(pool, path, body);
      if (performance.now() > warmEnd) done++;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  await pool.close();
  return done / THROUGHPUT_SECONDS;
}

function rssMb(pid: number | undefined): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

const us = (v: number): string => v.toFixed(0);

async function main(): Promise<void> {
  const mockPort = await freePort();
  const gatewayPort = await freePort();
  const mock = start('dist/apps/mock-llm/src/main.js', { MOCK_LLM_PORT: String(mockPort) });
  const mockOrigin = `http://127.0.0.1:${mockPort}`;
  await waitReady(`${mockOrigin}/health`);
  const gateway = start('dist/apps/gateway/src/main.js', {
    PORT: String(gatewayPort),
    LOG_LEVEL: 'warn',
    UPSTREAM_OPENAI_BASE_URL: `${mockOrigin}/v1`,
    UPSTREAM_ANTHROPIC_BASE_URL: mockOrigin,
    OPENAI_API_KEY: 'sk-bench',
    // Everything on: history in a SQLite file (the default store), written in batches off the hot path.
    DATABASE_URL: `sqlite:${join(RESULTS, 'bench-history.db.tmp')}`,
    ANTHROPIC_API_KEY: 'sk-ant-bench',
  });
  const gwOrigin = `http://127.0.0.1:${gatewayPort}`;
  try {
    await waitReady(`${gwOrigin}/health/live`);
    const direct = await sequential(mockOrigin, '/v1/chat/completions', SMALL_BODY, LATENCY_REQUESTS);
    const via = await sequential(gwOrigin, '/v1/chat/completions', SMALL_BODY, LATENCY_REQUESTS);
    const streamDirect = await sequential(mockOrigin, '/v1/messages', STREAM_BODY, STREAM_REQUESTS);
    const streamVia = await sequential(gwOrigin, '/v1/messages', STREAM_BODY, STREAM_REQUESTS);
    const rows: Array<{ connections: number; directRps: number; gatewayRps: number; ratio: number }> = [];
    for (const c of CONCURRENCY) {
      const directRps = await throughput(mockOrigin, '/v1/chat/completions', SMALL_BODY, c);
      const gatewayRps = await throughput(gwOrigin, '/v1/chat/completions', SMALL_BODY, c);
      rows.push({ connections: c, directRps, gatewayRps, ratio: gatewayRps / directRps });
    }
    const memory = rssMb(gateway.pid);
    const added = {
      meanUs: via.total.meanUs - direct.total.meanUs,
      p50Us: via.total.p50Us - direct.total.p50Us,
      p99Us: via.total.p99Us - direct.total.p99Us,
      ttftMeanUs: streamVia.first.meanUs - streamDirect.first.meanUs,
      ttftP50Us: streamVia.first.p50Us - streamDirect.first.p50Us,
      ttftP99Us: streamVia.first.p99Us - streamDirect.first.p99Us,
      streamTotalMeanUs: streamVia.total.meanUs - streamDirect.total.meanUs,
    };
    const result = {
      at: new Date().toISOString(),
      node: process.version,
      cpus: (await import('node:os')).cpus().length,
      nonStreaming: { direct: direct.total, gateway: via.total },
      streaming: {
        words: STREAM_WORDS,
        direct: { firstByte: streamDirect.first, total: streamDirect.total },
        gateway: { firstByte: streamVia.first, total: streamVia.total },
      },
      added,
      throughput: rows,
      gatewayMemory: memory,
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
    const md = [
      `# Benchmark (${result.at}, Node ${result.node}, ${result.cpus} CPUs)`,
      '',
      'Same-format OpenAI non-streaming call (small), and a 50-word Anthropic stream, 1 connection; times in microseconds.',
      '',
      '| measure | mock alone | through gateway | added |',
      '|---|---|---|---|',
      `| non-streaming mean | ${us(direct.total.meanUs)} | ${us(via.total.meanUs)} | ${us(added.meanUs)} |`,
      `| non-streaming p50 | ${us(direct.total.p50Us)} | ${us(via.total.p50Us)} | ${us(added.p50Us)} |`,
      `| non-streaming p99 | ${us(direct.total.p99Us)} | ${us(via.total.p99Us)} | ${us(added.p99Us)} |`,
      `| stream first byte mean | ${us(streamDirect.first.meanUs)} | ${us(streamVia.first.meanUs)} | ${us(added.ttftMeanUs)} |`,
      `| stream first byte p99 | ${us(streamDirect.first.p99Us)} | ${us(streamVia.first.p99Us)} | ${us(added.ttftP99Us)} |`,
      `| stream total mean | ${us(streamDirect.total.meanUs)} | ${us(streamVia.total.meanUs)} | ${us(added.streamTotalMeanUs)} |`,
      '',
      '| connections | mock alone (req/s) | through gateway (req/s) | ratio |',
      '|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.connections} | ${r.directRps.toFixed(0)} | ${r.gatewayRps.toFixed(0)} | ${(r.ratio * 100).toFixed(1)}% |`,
      ),
      '',
      `Gateway RSS after the run: ${memory.rssMb.toFixed(0)} MiB (peak ${memory.peakMb.toFixed(0)} MiB).`,
      '',
    ].join('\n');
    writeFileSync(join(RESULTS, 'latest.md'), md);
    process.stdout.write(md);
  } finally {
    gateway.kill('SIGTERM');
    mock.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
