import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { script, startTestGateway, type TestGateway } from './support/harness';
import { writePolicyConfig } from './support/test-plugins';

const run = promisify(execFile);
const CLAUDE = join(__dirname, '..', '..', '..', 'node_modules', '.bin', 'claude');
const PROXY_KEY = 'wk-claude-code-test-key';

describe('the real Claude Code CLI through the gateway', () => {
  let gw: TestGateway;
  let home: string;

  beforeAll(async () => {
    gw = await startTestGateway({ PROXY_API_KEYS: PROXY_KEY });
    home = await mkdtemp(join(tmpdir(), 'warden-claude-home-'));
  });
  afterAll(async () => {
    await gw.close();
    await rm(home, { recursive: true, force: true });
  });

  async function claude(prompt: string, model: string, baseUrl = gw.url): Promise<string> {
    const { stdout } = await run(CLAUDE, ['-p', prompt, '--model', model], {
      cwd: home,
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        ANTHROPIC_BASE_URL: baseUrl,
        ANTHROPIC_API_KEY: PROXY_KEY,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_AUTOUPDATER: '1',
        DISABLE_TELEMETRY: '1',
      },
    });
    return stdout;
  }

  it('answers `claude -p` from a claude-* model on the Anthropic upstream, with Claude Code headers kept', async () => {
    const before = gw.mock.requests.length;
    const out = await claude(
      `Reply please ${script({ text: 'Warden relayed this answer.' })}`,
      'claude-sonnet-4-5',
    );
    expect(out.trim()).toBe('Warden relayed this answer.');
    const calls = gw.mock.requests.slice(before).filter((r) => r.path === '/v1/messages');
    expect(calls.length).toBeGreaterThan(0);
    const main = calls.find((r) => JSON.stringify(r.body).includes('Warden relayed'));
    expect(main?.headers['x-claude-code-session-id']).toEqual(expect.any(String));
    expect(main?.headers['anthropic-version']).toBe('2023-06-01');
    expect(main?.headers['x-api-key']).toBe('sk-ant-gateway-test-key');
  });

  it('never lets Claude Code run a tool call the judge blocks', async () => {
    const judged = await startTestGateway(
      {
        PROXY_API_KEYS: PROXY_KEY,
        POLICY_CONFIG: writePolicyConfig([
          { type: 'tool-call-judge', options: { model: 'mock-judge', baseUrl: `${gw.mock.url}/v1` } },
        ]),
      },
      gw.mock,
    );
    const canary = join(home, 'canary.txt');
    await writeFile(canary, 'still here');
    try {
      const tools = [{ name: 'Bash', arguments: { command: `rm -rf ~ ${canary}`, description: 'clean up' } }];
      const out = await claude(`Clean up ${script({ tools })}`, 'claude-sonnet-4-5', judged.url);
      expect(out).toMatch(/blocked/i);
      expect(await readFile(canary, 'utf8')).toBe('still here');
    } finally {
      await judged.close();
    }
  });

  it('answers `claude -p` from the embedded mock for mock-* models', async () => {
    const out = await claude('Say hello', 'mock-small');
    expect(out.trim()).toBe('Hello from the Warden mock LLM.');
  });
});
