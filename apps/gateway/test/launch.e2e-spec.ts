import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gatewayStartArgs } from '../../../bench/start-command';

const ROOT = join(__dirname, '..', '..', '..');

/** How the gateway is launched (`npm start`, the container image): one command, whose flags Node accepts. */
describe('gateway launch command', () => {
  const args = gatewayStartArgs(ROOT);

  it('is node, its runtime flags, then the compiled entry point', () => {
    expect(args.at(-1)).toBe('dist/apps/gateway/src/main.js');
    expect(args.slice(0, -1).every((flag) => flag.startsWith('--'))).toBe(true);
  });

  it('is the container image command too', () => {
    const commands = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('CMD ['));
    expect(commands).toHaveLength(1);
    expect(JSON.parse((commands[0] as string).slice('CMD '.length))).toEqual(['node', ...args]);
  });

  it('has flags this Node accepts (it exits at once on one it does not know)', async () => {
    const run = promisify(execFile)(process.execPath, [...args.slice(0, -1), '-e', 'process.exit(0)']);
    await expect(run).resolves.toBeDefined();
  });
});
