/**
 * Gateway overhead benchmark: the mock LLM alone (baseline) vs the same mock behind the gateway, in one run, for
 * several gateway configurations (variants). Mock and gateway run as separate processes (as in production); the
 * load generator (and the OTLP sink of the tracing variant) is this process.
 *
 * Per variant: a fresh gateway, started as `npm start` does; its cold start (the first calls it serves, one at a
 * time); a warm-up (JIT-compiled code, as in a gateway that has been serving for a while); 1-connection latency of a
 * small non-streaming call and of a 50-word stream's first byte, in three rounds alternating with the same measure on
 * the mock alone (so a noisy machine hits both alike); throughput at 1/16/32/64 connections against the mock's own, in
 * rounds alternating the same way; the gateway's CPU per call, RSS and dropped events; a large request (an agent
 * resending its conversation, 200 KB): CPU per call, of the whole process and of its main thread, and throughput at
 * 8 connections. Writes
 * bench/results/latest.json and bench/results/latest.md. The first "variant", `pipe`, is not the gateway but a bare
 * byte-forwarding proxy measured the same way: the reference point.
 *
 * Environment: BENCH_LATENCY_REQUESTS, BENCH_STREAM_REQUESTS, BENCH_THROUGHPUT_SECONDS, BENCH_COLD_REQUESTS,
 * BENCH_WARMUP_CALLS, BENCH_LARGE_CALLS, BENCH_VARIANTS (comma-separated names, default all), BENCH_REDIS_URL (default
 * redis://127.0.0.1:6379/14).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, connect } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import {
  DEFAULT_TOOL_JUDGE_INSTRUCTIONS,
  DEFAULT_TOOL_JUDGE_MAX_TOKENS,
  toolCallPrompt,
} from '@warden/policy';
import { measureRedisBus, type RedisBusResult } from './redis-bus';
import { gatewayStartArgs } from './start-command';

const ROOT = join(__dirname, '..', '..');
const RESULTS = join(ROOT, 'bench', 'results');
const LATENCY_REQUESTS = Number(process.env.BENCH_LATENCY_REQUESTS ?? 3000);
const STREAM_REQUESTS = Number(process.env.BENCH_STREAM_REQUESTS ?? 600);
/** Alternating mock/gateway rounds the latency samples are split over. */
const LATENCY_ROUNDS = 3;
/** Seconds of each throughput round, after its warm-up. */
const THROUGHPUT_SECONDS = Number(process.env.BENCH_THROUGHPUT_SECONDS ?? 2);
const THROUGHPUT_WARMUP_MS = 500;
/** Alternating mock/gateway rounds of each throughput measure; the round with the median ratio is reported. */
const THROUGHPUT_ROUNDS = 3;
/** Calls on the connection of each latency round before its samples (connection and mock/gateway pair warm). */
const WARMUP_REQUESTS = 300;
/** Sequential non-streaming calls measured first on each fresh gateway: its cold start. */
const COLD_REQUESTS = Number(process.env.BENCH_COLD_REQUESTS ?? 1000);
/**
 * Calls (non-streaming and streaming, alternately, at {@link WARMUP_CONNECTIONS} connections) each gateway serves after
 * its cold start and before anything else is measured: V8 compiles a fresh process's hot code over its first few
 * thousand calls, in a background thread that competes for the 2 cores, and a gateway serves far more than that.
 */
const WARMUP_CALLS = Number(process.env.BENCH_WARMUP_CALLS ?? 5000);
const WARMUP_CONNECTIONS = 16;
/** Connections of the throughput measures (issue 2's target is 25% of the mock's own at 32 to 64). */
const CONCURRENCY = [1, 16, 32, 64];
/** The throughput measures with concurrency, whose change the per-feature table shows. */
const SHARED_CONCURRENCY = CONCURRENCY.filter((c) => c > 1);
const STREAM_WORDS = 50;
const READY_TIMEOUT_MS = 20_000;
/** Calls of the CPU-per-call measure, and its concurrency. */
const CPU_CALLS = Number(process.env.BENCH_CPU_CALLS ?? 3000);
/** Rounds of the CPU measure; the lowest is kept (other load on the machine only ever adds to it). */
const CPU_ROUNDS = 2;
const CPU_CONNECTIONS = 16;
/** Wait after the CPU measure's calls so that the history's batched writes (EVENT_FLUSH_MS, 1 s) are counted. */
const CPU_SETTLE_MS = 1500;
/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/14';

const SMALL_BODY = JSON.stringify({
  model: 'gpt-bench',
  messages: [{ role: 'user', content: 'Hello, how are you today?' }],
});
/** Size of the large request: an agent (Claude Code) resends its whole conversation with every call. */
const LARGE_REQUEST_BYTES = 200_000;
/** Calls of the large-request CPU measure, and the concurrency of its measures. */
const LARGE_CALLS = Number(process.env.BENCH_LARGE_CALLS ?? 400);
const LARGE_CONNECTIONS = 8;
const LARGE_BODY = largeBody(LARGE_REQUEST_BYTES);

/** A same-format Anthropic request of a conversation of about `bytes` bytes (turns of an agent's session). */
function largeBody(bytes: number): string {
  const turn =
    'Please look at src/app/module.ts and tell me why the build fails with an error about missing exports. ';
  const messages: Array<{ role: string; content: string }> = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const content = `Turn ${i}: ${turn.repeat(8)}`;
    messages.push({ role: i % 2 === 0 ? 'user' : 'assistant', content });
    size += content.length;
  }
  messages.push({ role: 'user', content: 'And now?' });
  return JSON.stringify({ model: 'claude-bench', max_tokens: 200, messages });
}

const STREAM_BODY = JSON.stringify({
  model: 'claude-bench',
  max_tokens: 200,
  stream: true,
  messages: [{ role: 'user', content: `<mock>{"words":${STREAM_WORDS}}</mock>` }],
});

/** Calls of each judge-path measure (mock alone, judge alone, through the gateway), in {@link LATENCY_ROUNDS} rounds. */
const JUDGE_REQUESTS = Number(process.env.BENCH_JUDGE_REQUESTS ?? 600);
/** Calls the judge-path gateway serves before it is measured. */
const JUDGE_WARMUP_CALLS = 2000;
/** The tool call the judge-path requests ask the mock for: harmless, so the judge lets it through. */
const JUDGED_TOOL = { name: 'Bash', arguments: { command: 'ls -la' } };
/** A same-format Anthropic request whose answer is a sentence and {@link JUDGED_TOOL}, non-streaming or streaming. */
function toolBody(stream: boolean): string {
  return JSON.stringify({
    model: 'claude-bench',
    max_tokens: 200,
    stream,
    tools: [{ name: 'Bash', input_schema: { type: 'object' } }],
    messages: [
      {
        role: 'user',
        content: `<mock>${JSON.stringify({ text: 'Let me look.', tools: [JUDGED_TOOL] })}</mock>`,
      },
    ],
  });
}
/** The judge's own request for {@link JUDGED_TOOL}, as the tool-call judge sends it (the mock answers as a judge). */
const JUDGE_BODY = JSON.stringify({
  model: 'mock-judge',
  messages: [
    { role: 'system', content: DEFAULT_TOOL_JUDGE_INSTRUCTIONS },
    { role: 'user', content: toolCallPrompt(JUDGED_TOOL.name, JSON.stringify(JUDGED_TOOL.arguments)) },
  ],
  max_tokens: DEFAULT_TOOL_JUDGE_MAX_TOKENS,
  temperature: 0,
  stream: false,
});

/** One gateway configuration; `env` is added to the common environment (mock upstreams, keys, log level). */
interface Variant {
  name: string;
  description: string;
  /** The variant the per-feature overhead is measured against (undefined: the mock alone). */
  versus?: string;
  env: (ctx: { sqlitePath: string; otlpEndpoint: string; mockOrigin: string }) => Record<string, string>;
  needsRedis?: boolean;
  /** The program measured instead of the gateway (a reference point). */
  script?: string;
}

const VARIANTS: Variant[] = [
  {
    name: 'pipe',
    description:
      'reference, not the gateway: a bare Node.js proxy that only forwards bytes over keep-alive connections ' +
      '(bench/pipe-proxy.ts), the floor issue 2 asks the gateway to approach',
    script: 'dist/bench/pipe-proxy.js',
    env: ({ mockOrigin }) => ({ UPSTREAM: mockOrigin }),
  },
  {
    name: 'core',
    description:
      'HISTORY_ENABLED=false (no history database), METRICS_ENABLED=false, no tracing, in-process bus',
    env: () => ({ HISTORY_ENABLED: 'false', METRICS_ENABLED: 'false' }),
  },
  {
    name: '+history',
    description: 'core + history in a SQLite file (the default store), METRICS_ENABLED=false',
    versus: 'core',
    env: ({ sqlitePath }) => ({ DATABASE_URL: `sqlite:${sqlitePath}`, METRICS_ENABLED: 'false' }),
  },
  {
    name: 'default',
    description: 'as `npm start` ships: SQLite history, metrics on, no tracing, no Redis',
    versus: '+history',
    env: ({ sqlitePath }) => ({ DATABASE_URL: `sqlite:${sqlitePath}` }),
  },
  {
    name: '+redis-bus',
    description: 'default + REDIS_URL only (the live event bus and control channel go through Redis)',
    versus: 'default',
    needsRedis: true,
    env: ({ sqlitePath }) => ({ DATABASE_URL: `sqlite:${sqlitePath}`, REDIS_URL }),
  },
  {
    name: '+ratelimit',
    description: '+redis-bus + RATE_LIMIT_RPM/BURST=1000000 (never reached: one Redis round trip per call)',
    versus: '+redis-bus',
    needsRedis: true,
    env: ({ sqlitePath }) => ({
      DATABASE_URL: `sqlite:${sqlitePath}`,
      REDIS_URL,
      RATE_LIMIT_RPM: '1000000',
      RATE_LIMIT_BURST: '1000000',
    }),
  },
  {
    name: '+tracing',
    description: 'default + OTLP traces to a sink in the bench process (answers 200)',
    versus: 'default',
    env: ({ sqlitePath, otlpEndpoint }) => ({
      DATABASE_URL: `sqlite:${sqlitePath}`,
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
    }),
  },
];

interface Stats {
  n: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
}

/** Gateway minus mock alone, in microseconds. */
interface AddedStats {
  meanUs: number;
  p50Us: number;
  p99Us: number;
}

function addedOver(direct: Stats, via: Stats): AddedStats {
  return {
    meanUs: via.meanUs - direct.meanUs,
    p50Us: via.p50Us - direct.p50Us,
    p99Us: via.p99Us - direct.p99Us,
  };
}

interface Sequential {
  total: Stats;
  first: Stats;
}

interface VariantResult {
  name: string;
  description: string;
  versus: string | null;
  env: Record<string, string>;
  nonStreaming: { direct: Stats; gateway: Stats };
  /** The 50-word stream: its first body byte and the whole stream, on the mock alone and through the gateway. */
  streaming: { direct: Sequential; gateway: Sequential };
  added: { meanUs: number; p50Us: number; p99Us: number; ttftMeanUs: number; ttftP99Us: number };
  /** Time the gateway adds to the stream's first byte (ttft) and to the whole stream (total). */
  addedStream: { ttft: AddedStats; total: AddedStats };
  /** The first {@link COLD_REQUESTS} calls of the fresh gateway, against the mock's (warm) samples of this variant. */
  cold: { gateway: Stats; addedMeanUs: number; addedP99Us: number };
  /** Per connection count: the round whose gateway/mock ratio is the median (its req/s), and every round's ratio. */
  throughput: Array<{
    connections: number;
    gatewayRps: number;
    mockRps: number;
    ratio: number;
    ratios: number[];
  }>;
  /** Gateway process CPU (all threads, user + system) per non-streaming call, at 16 connections. */
  cpuUsPerCall: number;
  /** The large request ({@link LARGE_REQUEST_BYTES}): CPU per call (process, main thread) and throughput. */
  large: {
    cpuUsPerCall: number;
    mainThreadUsPerCall: number;
    throughput: VariantResult['throughput'][number];
  };
  gatewayMemory: { rssMb: number; peakMb: number };
  /** Events the gateway gave up during the run (its history queue overflowed: the writer fell behind); null when
   * its health report has no event queue (the pipe). */
  eventsDropped: number | null;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited with code ${child.exitCode}`);
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

/** Starts `node <args>` in the project's root. */
function start(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** Whether something accepts TCP connections at a redis:// URL's host and port. */
async function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port || 6379), hostname);
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

/** A stand-in OTLP collector: accepts POST /v1/traces (any body) with 200; counts the exports. */
async function startOtlpSink(): Promise<{ server: Server; endpoint: string; exports: () => number }> {
  let exports = 0;
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') exports++;
      res.writeHead(req.method === 'POST' ? 200 : 404, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { server, endpoint: `http://127.0.0.1:${port}`, exports: () => exports };
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

/** Samples (ms) of one connection's calls: the whole call and its first body byte. */
interface Samples {
  total: number[];
  first: number[];
}

/** `n` calls one after the other on one connection (after `warmup` more), appended to `into`. */
async function sequential(
  origin: string,
  path: string,
  body: string,
  n: number,
  into: Samples,
  warmup: number = WARMUP_REQUESTS,
): Promise<void> {
  const pool = new Pool(origin, { connections: 1 });
  for (let i = 0; i < Math.min(warmup, n); i++) await call(pool, path, body);
  for (let i = 0; i < n; i++) {
    const r = await call(pool, path, body);
    into.total.push(r.totalMs);
    into.first.push(r.firstMs);
  }
  await pool.close();
}

/** The first {@link COLD_REQUESTS} non-streaming calls of a fresh gateway, one at a time, without warm-up. */
async function coldStart(origin: string): Promise<Stats> {
  const samples: Samples = { total: [], first: [] };
  await sequential(origin, '/v1/chat/completions', SMALL_BODY, COLD_REQUESTS, samples, 0);
  return stats(samples.total);
}

/** {@link WARMUP_CALLS} calls, non-streaming and streaming alternately, at {@link WARMUP_CONNECTIONS} connections. */
async function warmUp(origin: string): Promise<void> {
  const pool = new Pool(origin, { connections: WARMUP_CONNECTIONS, pipelining: 1 });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < WARMUP_CALLS) {
      const streamed = next++ % 2 === 1;
      await (streamed
        ? call(pool, '/v1/messages', STREAM_BODY)
        : call(pool, '/v1/chat/completions', SMALL_BODY));
    }
  };
  await Promise.all(Array.from({ length: WARMUP_CONNECTIONS }, worker));
  await pool.close();
}

/**
 * One-connection latency of the mock alone and through `gateway`, measured in {@link LATENCY_ROUNDS} alternating
 * rounds (mock, gateway, mock, gateway, ...) so that a slow phase of the machine hits both alike.
 */
async function alternating(
  mockOrigin: string,
  gatewayOrigin: string,
  path: string,
  body: string,
  n: number,
): Promise<{ direct: Sequential; via: Sequential }> {
  const direct: Samples = { total: [], first: [] };
  const via: Samples = { total: [], first: [] };
  const perRound = Math.ceil(n / LATENCY_ROUNDS);
  for (let round = 0; round < LATENCY_ROUNDS; round++) {
    await sequential(mockOrigin, path, body, perRound, direct);
    await sequential(gatewayOrigin, path, body, perRound, via);
  }
  return {
    direct: { total: stats(direct.total), first: stats(direct.first) },
    via: { total: stats(via.total), first: stats(via.first) },
  };
}

async function throughput(origin: string, path: string, body: string, connections: number): Promise<number> {
  const pool = new Pool(origin, { connections, pipelining: 1 });
  const warmEnd = performance.now() + THROUGHPUT_WARMUP_MS;
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

/**
 * Throughput of the mock alone and through the gateway at `connections`, in {@link THROUGHPUT_ROUNDS} alternating
 * rounds: each round's ratio compares two measures a few seconds apart, so a slow phase of a shared machine weighs
 * on both alike; the round with the median ratio is reported.
 */
async function alternatingThroughput(
  mockOrigin: string,
  gatewayOrigin: string,
  connections: number,
  path = '/v1/chat/completions',
  body = SMALL_BODY,
): Promise<VariantResult['throughput'][number]> {
  const rounds: Array<{ mock: number; gateway: number; ratio: number }> = [];
  for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
    const mock = await throughput(mockOrigin, path, body, connections);
    const gateway = await throughput(gatewayOrigin, path, body, connections);
    rounds.push({ mock, gateway, ratio: gateway / mock });
  }
  const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)];
  if (median === undefined) throw new Error('no throughput round was measured');
  return {
    connections,
    gatewayRps: median.gateway,
    mockRps: median.mock,
    ratio: median.ratio,
    ratios: rounds.map((r) => r.ratio),
  };
}

/** CPU time (user + system) a process has used, all threads or its main thread only, in microseconds. */
function cpuUs(pid: number | undefined, mainThread = false): number {
  // Fields after the command name (which may contain spaces): state is 3rd, utime 14th, stime 15th.
  const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6;
}

/** What {@link cpuPerCall} sends: the small call at {@link CPU_CONNECTIONS} unless told. */
interface CpuLoad {
  path?: string;
  body?: string;
  calls?: number;
  connections?: number;
}

/**
 * Gateway CPU per call (whole process and main thread): `calls` calls at `connections`, then the wait for the
 * history to be written.
 */
async function cpuPerCall(
  origin: string,
  pid: number | undefined,
  {
    path = '/v1/chat/completions',
    body = SMALL_BODY,
    calls = CPU_CALLS,
    connections = CPU_CONNECTIONS,
  }: CpuLoad = {},
): Promise<{ process: number; main: number }> {
  const pool = new Pool(origin, { connections, pipelining: 1 });
  let left = calls;
  const before = { process: cpuUs(pid), main: cpuUs(pid, true) };
  const worker = async (): Promise<void> => {
    while (left > 0) {
      left--;
      await call(pool, path, body);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  await pool.close();
  await new Promise((r) => setTimeout(r, CPU_SETTLE_MS));
  return { process: (cpuUs(pid) - before.process) / calls, main: (cpuUs(pid, true) - before.main) / calls };
}

/** The lowest of {@link CPU_ROUNDS} rounds of {@link cpuPerCall}, each figure apart: the least sensitive to load. */
async function lowestCpuPerCall(
  origin: string,
  pid: number | undefined,
  load: CpuLoad = {},
): Promise<{ process: number; main: number }> {
  const lowest = { process: Number.POSITIVE_INFINITY, main: Number.POSITIVE_INFINITY };
  for (let round = 0; round < CPU_ROUNDS; round++) {
    const measured = await cpuPerCall(origin, pid, load);
    lowest.process = Math.min(lowest.process, measured.process);
    lowest.main = Math.min(lowest.main, measured.main);
  }
  return lowest;
}

/** The gateway's count of events given up (`/health`, check `events`); null when it reports none. */
async function eventsDropped(origin: string): Promise<number | null> {
  const res = await fetch(`${origin}/health`);
  if (!(res.headers.get('content-type') ?? '').includes('json')) return null;
  const health: unknown = await res.json();
  const checks = (health as { checks?: { events?: { dropped?: unknown } } }).checks;
  const dropped = checks?.events?.dropped;
  return typeof dropped === 'number' ? dropped : null;
}

function rssMb(pid: number | undefined): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** The SQLite history file of the gateway being measured (removed before and after). */
const HISTORY_FILE = join(RESULTS, 'bench-history.db.tmp');

/** The environment every measured gateway gets: its port, the mock as both upstreams, keys, quiet logs. */
function gatewayEnv(port: number, mockOrigin: string): Record<string, string> {
  return {
    PORT: String(port),
    LOG_LEVEL: 'warn',
    UPSTREAM_OPENAI_BASE_URL: `${mockOrigin}/v1`,
    UPSTREAM_ANTHROPIC_BASE_URL: mockOrigin,
    OPENAI_API_KEY: 'sk-bench',
    ANTHROPIC_API_KEY: 'sk-ant-bench',
  };
}

function removeSqlite(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
}

async function runVariant(
  variant: Variant,
  mockOrigin: string,
  otlpEndpoint: string,
): Promise<VariantResult> {
  removeSqlite(HISTORY_FILE);
  const gatewayPort = await freePort();
  const env = variant.env({ sqlitePath: HISTORY_FILE, otlpEndpoint, mockOrigin });
  // The gateway as `npm start` runs it (its runtime flags included).
  const gateway = start(variant.script === undefined ? gatewayStartArgs(ROOT) : [variant.script], {
    ...gatewayEnv(gatewayPort, mockOrigin),
    ...env,
  });
  const gwOrigin = `http://127.0.0.1:${gatewayPort}`;
  try {
    await waitReady(`${gwOrigin}/health/live`, gateway);
    const cold = await coldStart(gwOrigin);
    await warmUp(gwOrigin);
    // Mock and gateway in alternating rounds, for each measure: both see the same machine load.
    const small = await alternating(
      mockOrigin,
      gwOrigin,
      '/v1/chat/completions',
      SMALL_BODY,
      LATENCY_REQUESTS,
    );
    const streamed = await alternating(mockOrigin, gwOrigin, '/v1/messages', STREAM_BODY, STREAM_REQUESTS);
    const [direct, via, streamDirect, streamVia] = [small.direct, small.via, streamed.direct, streamed.via];
    const ttft = addedOver(streamDirect.first, streamVia.first);
    const rows: VariantResult['throughput'] = [];
    for (const c of CONCURRENCY) rows.push(await alternatingThroughput(mockOrigin, gwOrigin, c));
    const cpu = (await lowestCpuPerCall(gwOrigin, gateway.pid)).process;
    const largeCpu = await lowestCpuPerCall(gwOrigin, gateway.pid, {
      path: '/v1/messages',
      body: LARGE_BODY,
      calls: LARGE_CALLS,
      connections: LARGE_CONNECTIONS,
    });
    const largeThroughput = await alternatingThroughput(
      mockOrigin,
      gwOrigin,
      LARGE_CONNECTIONS,
      '/v1/messages',
      LARGE_BODY,
    );
    return {
      name: variant.name,
      description: variant.description,
      versus: variant.versus ?? null,
      env: Object.fromEntries(
        Object.entries(env).map(([k, v]) => [
          k,
          v.replace(RESULTS, 'bench/results').replace(mockOrigin, '<mock>'),
        ]),
      ),
      nonStreaming: { direct: direct.total, gateway: via.total },
      streaming: { direct: streamDirect, gateway: streamVia },
      added: { ...addedOver(direct.total, via.total), ttftMeanUs: ttft.meanUs, ttftP99Us: ttft.p99Us },
      addedStream: { ttft, total: addedOver(streamDirect.total, streamVia.total) },
      cold: {
        gateway: cold,
        addedMeanUs: cold.meanUs - direct.total.meanUs,
        addedP99Us: cold.p99Us - direct.total.p99Us,
      },
      throughput: rows,
      cpuUsPerCall: cpu,
      large: {
        cpuUsPerCall: largeCpu.process,
        mainThreadUsPerCall: largeCpu.main,
        throughput: largeThroughput,
      },
      gatewayMemory: rssMb(gateway.pid),
      eventsDropped: await eventsDropped(gwOrigin),
    };
  } finally {
    await stop(gateway);
    removeSqlite(HISTORY_FILE);
  }
}

/** What the tool-call judge adds to a call beyond the judge's own time, per request kind (issue 3). */
interface JudgePathResult {
  rows: Array<{
    kind: 'non-streaming' | 'streaming';
    /** The request on the mock alone, the judge's request on the mock alone, the request through the gateway. */
    mock: Stats;
    judge: Stats;
    gateway: Stats;
    /**
     * Mean through the gateway minus the mean of the mock alone and of the judge alone (means add up; percentiles
     * of separate distributions do not, so none is subtracted).
     */
    addedMeanUs: number;
  }>;
}

/**
 * The judge path: a gateway on its defaults with `tool-call-judge` pointed at the mock (answering as a judge), and a
 * request whose answer holds one harmless tool call, so the call waits for one verdict and passes. Measured in
 * {@link LATENCY_ROUNDS} alternating rounds at 1 connection: the request on the mock alone, the judge's own request
 * on the mock alone, and the request through the gateway; what the gateway adds beyond the judge is the third minus
 * the first two.
 */
async function measureJudgePath(mockOrigin: string): Promise<JudgePathResult> {
  const policyPath = join(RESULTS, 'bench-judge-policy.yaml.tmp');
  removeSqlite(HISTORY_FILE);
  writeFileSync(
    policyPath,
    [
      'policies:',
      '  - type: tool-call-judge',
      '    options:',
      '      model: mock-judge',
      `      baseUrl: ${mockOrigin}/v1`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const gateway = start(gatewayStartArgs(ROOT), {
    ...gatewayEnv(port, mockOrigin),
    DATABASE_URL: `sqlite:${HISTORY_FILE}`,
    POLICY_CONFIG: policyPath,
  });
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitReady(`${origin}/health/live`, gateway);
    // The measure is only meaningful if the judge lets the call through (one verdict, no replacement).
    const check = await fetch(`${origin}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: toolBody(false),
    });
    const answer = await check.text();
    if (!answer.includes('"tool_use"') || answer.includes('Warden blocked'))
      throw new Error(`the judge did not let the harmless tool call through: ${answer.slice(0, 300)}`);
    // Warmed up like the variants' gateways: V8 compiles the judge path's code over its first calls.
    const warm: Samples = { total: [], first: [] };
    await sequential(origin, '/v1/messages', toolBody(true), JUDGE_WARMUP_CALLS, warm, 0);
    const rows: JudgePathResult['rows'] = [];
    for (const stream of [false, true]) {
      const body = toolBody(stream);
      const mock: Samples = { total: [], first: [] };
      const judge: Samples = { total: [], first: [] };
      const via: Samples = { total: [], first: [] };
      const perRound = Math.ceil(JUDGE_REQUESTS / LATENCY_ROUNDS);
      for (let round = 0; round < LATENCY_ROUNDS; round++) {
        await sequential(mockOrigin, '/v1/messages', body, perRound, mock);
        await sequential(mockOrigin, '/v1/chat/completions', JUDGE_BODY, perRound, judge);
        await sequential(origin, '/v1/messages', body, perRound, via);
      }
      const [m, j, g] = [stats(mock.total), stats(judge.total), stats(via.total)];
      rows.push({
        kind: stream ? 'streaming' : 'non-streaming',
        mock: m,
        judge: j,
        gateway: g,
        addedMeanUs: g.meanUs - m.meanUs - j.meanUs,
      });
    }
    return { rows };
  } finally {
    await stop(gateway);
    removeSqlite(HISTORY_FILE);
    rmSync(policyPath, { force: true });
  }
}

/** The judge path section of the report. */
function judgePathMarkdown(judge: JudgePathResult | undefined): string {
  if (judge === undefined) return '';
  return [
    '',
    '## Judge path',
    '',
    'The gateway on its defaults with `tool-call-judge` pointed at the mock (answering as a judge); a same-format',
    `Anthropic request whose answer is a sentence and one harmless tool call (\`${JUDGED_TOOL.arguments.command}\`), held until`,
    `the verdict, then let through (the gateway serves ${JUDGE_WARMUP_CALLS} such calls first). 1 connection, 3 alternating`,
    'rounds; times in microseconds. "Added" is the mean through the gateway minus the means of the same request and',
    "of the judge's own request on the mock alone: what the judge path costs beyond the judge's time (the tool call",
    'held, the verdict asked for and applied, and the gateway itself). Streaming, the verdict is asked for while the',
    'rest of the upstream stream still arrives, so part of the judge time overlaps it and "added" reads lower.',
    '',
    '| request | mock alone mean | judge alone mean | through the gateway mean | gateway p50 | gateway p99 | added mean |',
    '|---|---|---|---|---|---|---|',
    ...judge.rows.map(
      (r) =>
        `| ${r.kind} | ${us(r.mock.meanUs)} | ${us(r.judge.meanUs)} | ${us(r.gateway.meanUs)} | ${us(r.gateway.p50Us)} | ${us(r.gateway.p99Us)} | ${signed(r.addedMeanUs)} |`,
    ),
    '',
  ].join('\n');
}

const us = (v: number): string => v.toFixed(0);
const conns = (c: number): string => `${c} conn${c === 1 ? '' : 's'}`;
const signed = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(0)}`;
const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

function markdown(
  at: string,
  results: VariantResult[],
  skipped: Array<{ name: string; reason: string }>,
  otlpExports: number,
): string {
  const byName = new Map(results.map((r) => [r.name, r]));
  const mockRow = CONCURRENCY.map((c) => {
    const rps = results.flatMap((r) => r.throughput.filter((t) => t.connections === c).map((t) => t.mockRps));
    return rps.length === 0 ? `${c}: -` : `${c}: ${us(Math.min(...rps))}-${us(Math.max(...rps))}`;
  }).join(', ');
  const lines = [
    `# Benchmark (${at}, Node ${process.version}, ${cpus().length} CPUs)`,
    '',
    'Same-format OpenAI non-streaming call (small) and the first byte of a 50-word Anthropic stream, 1 connection;',
    `times in microseconds, "added" = through the gateway minus the mock alone, measured in ${LATENCY_ROUNDS} alternating rounds. Throughput:`,
    `requests/s over ${THROUGHPUT_SECONDS} s after ${THROUGHPUT_WARMUP_MS} ms of warm-up, in ${THROUGHPUT_ROUNDS} rounds alternating with the mock alone;`,
    `the round with the median gateway/mock ratio is shown (the mock's own req/s in those rounds: ${mockRow}).`,
    `Each gateway serves ${WARMUP_CALLS} calls (half of them streams, ${WARMUP_CONNECTIONS} connections) before these measures,`,
    'as one that has been running for a while has: its cold start is measured before that, in the last table.',
    '',
    '## Variants',
    '',
    `| variant | CPU µs/call | added mean | added p50 | added p99 | added TTFT mean | added TTFT p99 | ${CONCURRENCY.map(conns).join(' | ')} | RSS MiB | events dropped |`,
    `|---|---|---|---|---|---|---|${CONCURRENCY.map(() => '---|').join('')}---|---|`,
    ...results.map((r) => {
      const ratio = (c: number): string => {
        const row = r.throughput.find((t) => t.connections === c);
        return row === undefined ? '-' : `${us(row.gatewayRps)} (${pct(row.ratio)})`;
      };
      return (
        `| ${r.name} | ${us(r.cpuUsPerCall)} | ${us(r.added.meanUs)} | ${us(r.added.p50Us)} | ${us(r.added.p99Us)} | ` +
        `${us(r.added.ttftMeanUs)} | ${us(r.added.ttftP99Us)} | ${CONCURRENCY.map(ratio).join(' | ')} | ` +
        `${us(r.gatewayMemory.rssMb)} | ${r.eventsDropped ?? '-'} |`
      );
    }),
    '',
    '## Streams',
    '',
    `The ${STREAM_WORDS}-word Anthropic stream at 1 connection (${STREAM_REQUESTS} calls, in the same alternating rounds): its first`,
    'body byte (time to first token) and the whole stream, on the mock alone and added by the gateway, in microseconds.',
    '',
    '| variant | mock TTFT p50 | added TTFT mean | added TTFT p50 | added TTFT p99 | mock total p50 | added total mean | added total p50 | added total p99 |',
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => {
      const { ttft, total } = r.addedStream;
      return (
        `| ${r.name} | ${us(r.streaming.direct.first.p50Us)} | ${us(ttft.meanUs)} | ${us(ttft.p50Us)} | ${us(ttft.p99Us)} | ` +
        `${us(r.streaming.direct.total.p50Us)} | ${us(total.meanUs)} | ${us(total.p50Us)} | ${us(total.p99Us)} |`
      );
    }),
    '',
    '## Large requests',
    '',
    `A same-format Anthropic non-streaming call whose request is a ${LARGE_REQUEST_BYTES / 1000} KB conversation (an agent resends`,
    `its whole conversation with every call): gateway CPU per call over ${LARGE_CALLS} calls at ${LARGE_CONNECTIONS} connections and the`,
    `history write that follows (lowest of ${CPU_ROUNDS} rounds), of the whole process and of its main thread (the event loop`,
    `that serves every call), and throughput at ${LARGE_CONNECTIONS} connections against the mock's own (as above).`,
    '',
    `| variant | CPU µs/call | main thread µs/call | ${conns(LARGE_CONNECTIONS)} req/s | share of the mock's |`,
    '|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.name} | ${us(r.large.cpuUsPerCall)} | ${us(r.large.mainThreadUsPerCall)} | ` +
        `${us(r.large.throughput.gatewayRps)} | ${pct(r.large.throughput.ratio)} |`,
    ),
    '',
    '## Per-feature overhead',
    '',
    'Each variant against the one it adds a feature to: gateway CPU per call (all threads, user + system, over',
    `${CPU_CALLS} calls at ${CPU_CONNECTIONS} connections and the history write that follows, lowest of ${CPU_ROUNDS} rounds: the`,
    'figure least sensitive to the load of the machine), added µs per call at 1 connection (mean, p50, p99), and the change in',
    `throughput share (points of the mock's own) at ${SHARED_CONCURRENCY.join(', ')} connections. Latency differences under ~50 µs are noise`,
    'on a shared machine.',
    '',
    `| feature | vs | CPU µs/call | mean µs | p50 µs | p99 µs | TTFT mean µs | ${SHARED_CONCURRENCY.map((c) => `share at ${c}`).join(' | ')} |`,
    `|---|---|---|---|---|---|---|${SHARED_CONCURRENCY.map(() => '---|').join('')}`,
    ...results.map((r) => {
      const base = r.versus === null ? undefined : byName.get(r.versus);
      const share = (x: VariantResult, c: number): number =>
        (x.throughput.find((t) => t.connections === c)?.ratio ?? 0) * 100;
      const points = (c: number): string => {
        if (base === undefined) return '-';
        const d = share(r, c) - share(base, c);
        return `${d >= 0 ? '+' : ''}${d.toFixed(1)} pts`;
      };
      if (base === undefined) {
        return `| ${r.name} | mock alone | ${us(r.cpuUsPerCall)} | ${signed(r.added.meanUs)} | ${signed(r.added.p50Us)} | ${signed(r.added.p99Us)} | ${signed(r.added.ttftMeanUs)} | ${SHARED_CONCURRENCY.map(() => '-').join(' | ')} |`;
      }
      return (
        `| ${r.name} | ${base.name} | ${signed(r.cpuUsPerCall - base.cpuUsPerCall)} | ` +
        `${signed(r.added.meanUs - base.added.meanUs)} | ` +
        `${signed(r.added.p50Us - base.added.p50Us)} | ${signed(r.added.p99Us - base.added.p99Us)} | ` +
        `${signed(r.added.ttftMeanUs - base.added.ttftMeanUs)} | ${SHARED_CONCURRENCY.map(points).join(' | ')} |`
      );
    }),
    '',
    '## Configurations',
    '',
    ...results.map(
      (r) =>
        `- **${r.name}**: ${r.description}. Env: ${
          Object.entries(r.env)
            .map(([k, v]) => `\`${k}=${v}\``)
            .join(' ') || '(none)'
        }`,
    ),
    ...skipped.map((s) => `- **${s.name}**: skipped (${s.reason}).`),
    '',
    '## Cold start',
    '',
    `The first ${COLD_REQUESTS} calls of each freshly started gateway (small, non-streaming, one at a time, before the`,
    'warm-up), in microseconds; "added" against the mock alone in the warm measure above. V8 compiles the hot code',
    "over these calls, on a background thread that competes for the machine's 2 cores.",
    '',
    '| variant | mean | p50 | p99 | added mean | added p99 |',
    '|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.name} | ${us(r.cold.gateway.meanUs)} | ${us(r.cold.gateway.p50Us)} | ${us(r.cold.gateway.p99Us)} | ` +
        `${us(r.cold.addedMeanUs)} | ${us(r.cold.addedP99Us)} |`,
    ),
    '',
    `OTLP exports received by the sink during the run: ${otlpExports}.`,
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const only = process.env.BENCH_VARIANTS?.split(',').map((v) => v.trim());
  const wanted = VARIANTS.filter((v) => only === undefined || only.includes(v.name));
  const mockPort = await freePort();
  const mock = start(['dist/apps/mock-llm/src/main.js'], { MOCK_LLM_PORT: String(mockPort) });
  const mockOrigin = `http://127.0.0.1:${mockPort}`;
  const sink = await startOtlpSink();
  mkdirSync(RESULTS, { recursive: true });
  try {
    await waitReady(`${mockOrigin}/health`, mock);
    const redisUp = await reachable(REDIS_URL);
    const results: VariantResult[] = [];
    const skipped: Array<{ name: string; reason: string }> = [];
    for (const variant of wanted) {
      if (variant.needsRedis === true && !redisUp) {
        skipped.push({ name: variant.name, reason: `no Redis at ${REDIS_URL}` });
        continue;
      }
      process.stderr.write(`bench: ${variant.name}\n`);
      results.push(await runVariant(variant, mockOrigin, sink.endpoint));
    }
    let judgePath: JudgePathResult | undefined;
    if (only === undefined || only.includes('judge')) {
      process.stderr.write('bench: judge path\n');
      judgePath = await measureJudgePath(mockOrigin);
    }
    let redisBus: RedisBusResult | undefined;
    if (redisUp) {
      process.stderr.write('bench: redis event bus\n');
      redisBus = await measureRedisBus(REDIS_URL);
    } else skipped.push({ name: 'redis event bus', reason: `no Redis at ${REDIS_URL}` });
    const at = new Date().toISOString();
    const result = {
      at,
      node: process.version,
      cpus: cpus().length,
      settings: {
        latencyRequests: LATENCY_REQUESTS,
        latencyRounds: LATENCY_ROUNDS,
        streamRequests: STREAM_REQUESTS,
        streamWords: STREAM_WORDS,
        throughputSeconds: THROUGHPUT_SECONDS,
        throughputRounds: THROUGHPUT_ROUNDS,
        connections: CONCURRENCY,
        cpuCalls: CPU_CALLS,
        cpuConnections: CPU_CONNECTIONS,
        cpuRounds: CPU_ROUNDS,
        largeRequestBytes: Buffer.byteLength(LARGE_BODY),
        largeCalls: LARGE_CALLS,
        largeConnections: LARGE_CONNECTIONS,
        judgeRequests: JUDGE_REQUESTS,
      },
      variants: results,
      skipped,
      otlpExports: sink.exports(),
      judgePath: judgePath ?? null,
      redisBus: redisBus ?? null,
    };
    writeFileSync(join(RESULTS, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
    const md =
      markdown(at, results, skipped, sink.exports()) +
      judgePathMarkdown(judgePath) +
      redisBusMarkdown(redisBus);
    writeFileSync(join(RESULTS, 'latest.md'), md);
    process.stdout.write(md);
  } finally {
    await stop(mock);
    sink.server.close();
  }
}

/** The Redis event bus section of the report (empty when Redis was not reachable). */
function redisBusMarkdown(bus: RedisBusResult | undefined): string {
  if (bus === undefined) return '';
  return [
    '',
    '## Redis event bus (live events between replicas)',
    '',
    `${bus.events} events of ${bus.eventBytes} bytes, published in batches of ${bus.batch} by one bus instance and`,
    'received by another (two replica ids, one channel, the real `RedisEventBus` with its message validation).',
    '',
    '| events/s | seconds | delivery p50 (ms) | delivery p99 (ms) | max (ms) | lost |',
    '|---|---|---|---|---|---|',
    `| ${bus.eventsPerSecond} | ${bus.seconds} | ${bus.latencyMs.p50} | ${bus.latencyMs.p99} | ${bus.latencyMs.max} | ${bus.lost} |`,
    '',
  ].join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
