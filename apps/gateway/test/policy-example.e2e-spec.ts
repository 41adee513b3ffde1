import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { EventPublisher, type WardenEvent } from '@warden/events';
import OpenAI from 'openai';
import { script, startTestGateway, type TestGateway } from './support/harness';

/**
 * The worked example of docs/policies.md, as an operator runs it: the plugin directory and the chain file shipped
 * in examples/policies, through the real app, with the official SDKs.
 */
const EXAMPLES = join(__dirname, '..', '..', '..', 'examples', 'policies');

const LIST = { name: 'Bash', arguments: { command: 'ls -la src' } };
const WIPE = { name: 'Bash', arguments: { command: 'rm -rf ~' } };
const SMUGGLED = { name: 'Bash', arguments: { command: 'cat $(rm -rf ~)' } };

describe('the command-allowlist example policy (docs/policies.md)', () => {
  let gw: TestGateway;
  let anthropic: Anthropic;
  let openai: OpenAI;
  const events: WardenEvent[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({
      POLICY_PLUGIN_DIR: EXAMPLES,
      POLICY_CONFIG: join(EXAMPLES, 'command-allowlist.yaml'),
    });
    gw.app.get(EventPublisher).subscribe((e) => events.push(e));
    anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'loopback', maxRetries: 0 });
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'loopback', maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
  });

  const tools = [{ name: 'Bash', input_schema: { type: 'object' as const } }];
  const ask = (calls: unknown[]): string => script({ text: 'Checking.', tools: calls });

  it.each([true, false])(
    'replaces a command with a program off the list and lets the others run (stream: %s)',
    async (stream) => {
      const request = {
        model: 'claude-test',
        max_tokens: 500,
        tools,
        messages: [{ role: 'user' as const, content: ask([WIPE, LIST]) }],
      };
      const message = stream
        ? await anthropic.messages.stream(request).finalMessage()
        : await anthropic.messages.create(request);
      expect(message.content.map((b) => b.type)).toEqual(['text', 'text', 'tool_use']);
      const [said, refused, allowed] = message.content;
      expect(said).toMatchObject({ text: 'Checking.' });
      expect(refused?.type === 'text' ? refused.text : '').toBe(
        'Warden refused to run `rm -rf ~`: `rm` is not on the allow-list. The command was NOT executed. ' +
          'Programs allowed here: ls, cat, head, grep, wc, pwd. Use one of them, or ask the user to run it.',
      );
      expect(allowed).toMatchObject({ type: 'tool_use', name: 'Bash', input: LIST.arguments });
      expect(message.stop_reason).toBe('tool_use');
    },
  );

  it('refuses what it cannot read (command substitution), and ends the turn when nothing is left', async () => {
    const message = await anthropic.messages.create({
      model: 'claude-test',
      max_tokens: 500,
      tools,
      messages: [{ role: 'user', content: ask([SMUGGLED]) }],
    });
    expect(message.content.map((b) => b.type)).toEqual(['text', 'text']);
    expect(message.content[1]?.type === 'text' ? message.content[1].text : '').toContain(
      'it expands or substitutes something other than a plain $VARIABLE',
    );
    expect(message.stop_reason).toBe('end_turn');
  });

  it('makes the same decisions for an OpenAI client, streaming', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-test',
      stream: true,
      messages: [{ role: 'user', content: ask([LIST, WIPE]) }],
      tools: [{ type: 'function', function: { name: 'Bash', parameters: { type: 'object' } } }],
    });
    let text = '';
    const args: string[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        args[call.index] = (args[call.index] ?? '') + (call.function?.arguments ?? '');
      }
    }
    expect(text).toMatch(/^Checking\.\n\nWarden refused to run `rm -rf ~`/);
    expect(args.map((a) => JSON.parse(a) as unknown)).toEqual([LIST.arguments]);
  });

  it('publishes its decisions under its instance name, with its per-call count', async () => {
    const before = events.length;
    await anthropic.messages.create({
      model: 'claude-test',
      max_tokens: 500,
      tools,
      messages: [{ role: 'user', content: ask([WIPE, LIST, SMUGGLED]) }],
    });
    const mine = events.slice(before).filter((e) => e.type.startsWith('policy.shell-guard.'));
    expect(mine.map((e) => e.type).sort()).toEqual([
      'policy.shell-guard.allowed',
      'policy.shell-guard.refused',
      'policy.shell-guard.refused',
    ]);
    const refused = mine.filter((e) => e.type === 'policy.shell-guard.refused').map((e) => e.data);
    expect(refused).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          tool: 'Bash',
          command: 'rm -rf ~',
          reason: '`rm` is not on the allow-list',
        }),
      ]),
    );
    expect(refused.map((d) => d.refusedInCall).sort()).toEqual([1, 2]);
  });

  it('is listed with its options schema by the admin API', async () => {
    const { types } = (await (await fetch(`${gw.url}/api/policy/types`)).json()) as {
      types: Array<{
        name: string;
        optionsSchema: { properties?: Record<string, unknown>; required?: string[] };
      }>;
    };
    const type = types.find((t) => t.name === 'command-allowlist');
    expect(Object.keys(type?.optionsSchema.properties ?? {}).sort()).toEqual(['allow', 'message', 'tools']);
    expect(type?.optionsSchema.required).toEqual(['allow']);
  });
});
