import { runDemo } from '../../../scripts/demo';

describe('npm run demo', () => {
  it('shows the judge replacing the dangerous tool call and passing the harmless one, for both SDKs', async () => {
    const lines: string[] = [];
    expect(await runDemo((line) => lines.push(line))).toBe(true);
    const output = lines.join('\n');
    expect(output).toContain('[text] ⛔ Warden blocked the tool call "Bash" before it ran (risk 0.95)');
    expect(output).toContain('[tool call] Bash {"command":"ls -la","description":"List the files"}');
    expect(output).toContain(
      'policy.tool-call-judge.blocked: Bash (risk 0.95): mock judge: matched dangerous pattern rm -rf',
    );
    expect(output).toContain('The dangerous call never reached the agent; the harmless one did.');
  });
});
