import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './processes';
import { waitFor } from './wait';

const ROOT = join(__dirname, '..', '..', '..', '..');

/** A gateway running as its own process, started from `main.ts` like production (signals, exit code). */
export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process wrote to stdout and stderr so far (its log lines). */
  output(): string;
}

/**
 * Starts the gateway from its TypeScript sources in a child process (ts-node, no build step) and waits until it is
 * ready. `env` is the whole environment besides PATH, HOST and PORT: nothing leaks in from the test runner.
 */
export async function spawnGateway(env: Record<string, string>): Promise<GatewayProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/gateway/src/main.ts'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'error',
        ...env,
      },
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}:\n${output}`);
    return (await fetch(`${url}/health/ready`).catch(() => undefined))?.ok ? true : undefined;
  }, 90_000);
  return { child, url, output: () => output };
}
