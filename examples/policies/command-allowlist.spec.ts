import { join } from 'node:path';
import { INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api';
import { CallPolicyContext, loadPluginPolicyTypes, type Policy, type ToolCallVerdict } from '@warden/policy';

/** The example plugin as the gateway loads it, with the chain file's allow-list. */
function policy(): Policy {
  const type = loadPluginPolicyTypes(join(__dirname)).find((t) => t.name === 'command-allowlist');
  if (type === undefined) throw new Error('command-allowlist is not exported');
  return type.create(type.options.parse({ allow: ['ls', 'cat', 'grep', 'wc'] }), { name: 'shell-guard' });
}

function context(): CallPolicyContext {
  return new CallPolicyContext(
    {
      callId: 'call_1',
      sessionId: 'session_1',
      keyId: undefined,
      clientFormat: 'anthropic',
      upstreamFormat: 'anthropic',
      model: 'm',
      stream: false,
      originalRequest: {},
      signal: new AbortController().signal,
      span: trace.wrapSpanContext(INVALID_SPAN_CONTEXT),
    },
    'shell-guard',
    () => undefined,
  );
}

async function decide(command: unknown, name = 'Bash'): Promise<ToolCallVerdict | void> {
  const input = { command };
  return await policy().onToolCallComplete?.(context(), {
    id: 't1',
    name,
    input,
    arguments: JSON.stringify(input),
  });
}

/** The reason a refusal gives (the replacement text names it), or 'pass'. */
async function outcome(command: unknown, name?: string): Promise<string> {
  const verdict = await decide(command, name);
  if (verdict === undefined || verdict.action === 'pass') return 'pass';
  if (verdict.action !== 'replace') return verdict.action;
  return /: (.*)\. The command was NOT executed/.exec(verdict.text)?.[1] ?? verdict.text;
}

describe('the command-allowlist example plugin', () => {
  it.each([
    ['ls -la', 'pass'],
    ['ls -la src | grep app && wc -l README.md; cat a\nls', 'pass'],
    ['ls 2>&1 | grep x', 'pass'],
    ['ls |& grep a', 'pass'],
    ['ls $HOME\tsrc', 'pass'],
    [['bash', '-lc', 'ls -la'], 'pass'],
  ])('lets %j through', async (command, expected) => {
    expect(await outcome(command)).toBe(expected);
  });

  it.each([
    ['rm -rf ~', '`rm` is not on the allow-list'],
    ['ls && rm -rf ~', '`rm` is not on the allow-list'],
    ['sleep 1 & rm x', '`sleep` is not on the allow-list'],
    ['ls "a;b"', '`b"` is not on the allow-list'],
    ['/bin/rm -rf ~', '`/bin/rm` is a path, not a program on the list'],
    ['./ls', '`./ls` is a path, not a program on the list'],
    ['PATH=/tmp/x ls', 'it sets variables for a command (NAME=value)'],
    ['LD_PRELOAD=/tmp/x.so ls', 'it sets variables for a command (NAME=value)'],
    ['cat $(rm -rf ~)', 'it expands or substitutes something other than a plain $VARIABLE'],
    ['cat `rm -rf ~`', 'it expands or substitutes something other than a plain $VARIABLE'],
    ["x=$'\\x24(echo PWNED)'; ls ${x@P}", 'it expands or substitutes something other than a plain $VARIABLE'],
    ['ls $((1+1))', 'it expands or substitutes something other than a plain $VARIABLE'],
    ['ls () ( rm -rf ~ ); ls', 'it opens a subshell, a group or a function'],
    ['{ rm -rf ~; }', 'it opens a subshell, a group or a function'],
    ['ls > ~/.bashrc', 'it redirects input or output'],
    ['cat <<EOF', 'it redirects input or output'],
    ['ls &> out', 'it redirects input or output'],
    ['diff <(ls) <(ls a)', 'it opens a subshell, a group or a function'],
    ['ls\u000b/path', 'it holds control characters'],
    ['ls\r\nrm x', 'it holds control characters'],
    [['bash', '-lc', 'rm -rf ~'], '`rm` is not on the allow-list'],
    [['python3', '-c', 'print(1)'], 'it opens a subshell, a group or a function'],
    [['env', 'ls'], '`env` is not on the allow-list'],
    [42, 'its command could not be read'],
  ])('refuses %j: %s', async (command, reason) => {
    expect(await outcome(command)).toBe(reason);
  });

  it('leaves tools other than the shell alone', async () => {
    expect(await outcome('rm -rf ~', 'Read')).toBe('pass');
  });
});
