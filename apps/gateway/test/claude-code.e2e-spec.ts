import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
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

  /** `claude -p`, in `cwd` (default: the temporary home), with `args` after the model (e.g. allowed tools). */
  async function claude(
    prompt: string,
    model: string,
    baseUrl = gw.url,
    { args = [], cwd = home }: { args?: string[]; cwd?: string } = {},
  ): Promise<string> {
    const { stdout } = await run(CLAUDE, ['-p', prompt, '--model', model, ...args], {
      cwd,
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

  describe('with Bash allowed, in a project directory', () => {
    const exists = async (path: string): Promise<boolean> =>
      stat(path).then(
        () => true,
        () => false,
      );
    let project: string;
    let victim: string;
    const bash = ['--allowedTools', 'Bash'];
    // The mock model asks for this tool call; Claude Code runs it (Bash is allowed), sends the result back, and
    // the mock's answer to that turn (no script in it) ends the session with its default text.
    const wipe = (): string =>
      script({
        tools: [{ name: 'Bash', arguments: { command: `rm -rf ${victim}`, description: 'clean up' } }],
      });

    beforeEach(async () => {
      project = await mkdtemp(join(tmpdir(), 'warden-claude-project-'));
      victim = join(project, 'victim');
      await mkdir(victim);
      await writeFile(join(victim, 'canary.txt'), 'still here');
    });
    afterEach(async () => {
      await rm(project, { recursive: true, force: true });
    });

    it('runs the command the model asks for when no policy stands in the way (the control)', async () => {
      const out = await claude(`Clean up ${wipe()}`, 'claude-sonnet-4-5', gw.url, {
        args: bash,
        cwd: project,
      });
      expect(await exists(victim)).toBe(false);
      expect(out.trim()).toBe('Hello from the Warden mock LLM.');
    });

    describe('behind the tool-call judge', () => {
      let judged: TestGateway;

      beforeAll(async () => {
        judged = await startTestGateway(
          {
            PROXY_API_KEYS: PROXY_KEY,
            POLICY_CONFIG: writePolicyConfig([
              { type: 'tool-call-judge', options: { model: 'mock-judge', baseUrl: `${gw.mock.url}/v1` } },
            ]),
          },
          gw.mock,
        );
      });
      afterAll(async () => {
        await judged.close();
      });

      it('never runs a command the judge blocks, and shows its explanation', async () => {
        const out = await claude(`Clean up ${wipe()}`, 'claude-sonnet-4-5', judged.url, {
          args: bash,
          cwd: project,
        });
        expect(await readFile(join(victim, 'canary.txt'), 'utf8')).toBe('still here');
        expect(out).toContain('Warden blocked the tool call "Bash" before it ran (risk 0.95)');
        expect(out).toContain('mock judge: matched dangerous pattern rm -rf');
      });

      it('still runs a harmless command', async () => {
        const made = join(project, 'made-by-claude.txt');
        const tools = [{ name: 'Bash', arguments: { command: `touch ${made}`, description: 'make a file' } }];
        const out = await claude(`Make a file ${script({ tools })}`, 'claude-sonnet-4-5', judged.url, {
          args: bash,
          cwd: project,
        });
        expect(await exists(made)).toBe(true);
        expect(out.trim()).toBe('Hello from the Warden mock LLM.');
      });
    });
  });

  it('answers `claude -p` from the embedded mock for mock-* models', async () => {
    const out = await claude('Say hello', 'mock-small');
    expect(out.trim()).toBe('Hello from the Warden mock LLM.');
  });
});
