import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { messageToEvents, MessageAssembler, type AnthropicResponse } from '@warden/llm';
import { PolicyConfigException } from '../registry/policy-config.exception';
import { PolicyRegistry } from '../registry/policy-registry';
import { PolicyChain } from '../runtime/policy-chain';
import { PolicyTimings } from '../runtime/policy-timings';
import { callInfo } from '../testing/policy-test-kit';
import { loadPluginPolicyTypes } from './plugin-loader';

const FIXTURES = join(__dirname, 'test-fixtures', 'valid');

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('loadPluginPolicyTypes', () => {
  it('loads the policyTypes of every .js and .cjs module, in file name order, and ignores other files', () => {
    const types = loadPluginPolicyTypes(FIXTURES);
    expect(types.map((t) => t.name)).toEqual(['shout', 'echo', 'silent']);
  });

  it('accepts a relative directory', () => {
    const types = loadPluginPolicyTypes(relative(process.cwd(), FIXTURES));
    expect(types.map((t) => t.name)).toEqual(['shout', 'echo', 'silent']);
  });

  it('gives types that register, validate their options and run in a chain', async () => {
    const registry = new PolicyRegistry();
    for (const type of loadPluginPolicyTypes(FIXTURES)) registry.register(type);
    expect(registry.list().map((t) => t.name)).toEqual(['shout', 'echo', 'silent']);
    expect(() => registry.build({ policies: [{ type: 'echo', options: {} }] }, 'x')).toThrow(
      'policies.0 (echo): option text:',
    );
    const policies = registry.build(
      { policies: [{ type: 'shout' }, { type: 'echo', options: { text: 'from plugin' } }] },
      'x',
    );
    const run = new PolicyChain(policies, { maxBufferBytes: 1 << 20, timings: new PolicyTimings() }).begin(
      callInfo(),
      () => undefined,
    );
    expect(await run.onRequest({ format: 'anthropic', body: { messages: [] } })).toEqual({
      action: 'respond',
      text: 'from plugin',
      policy: 'echo',
    });
    const msg: AnthropicResponse = {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'm',
      content: [{ type: 'text', text: 'hello' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {},
    };
    const transform = run.streamTransform();
    const assembler = new MessageAssembler();
    for (const event of messageToEvents(msg))
      for (const out of await transform.push(event)) assembler.push(out);
    expect(assembler.message.content).toEqual([{ type: 'text', text: 'HELLO!' }]);
  });

  describe('with bad modules', () => {
    let dir: string;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'warden-plugins-'));
    });

    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('loads nothing from an empty directory or one without .js/.cjs files', () => {
      expect(loadPluginPolicyTypes(dir)).toEqual([]);
      writeFileSync(join(dir, 'notes.txt'), 'exports.policyTypes = 1;');
      writeFileSync(join(dir, 'plugin.js.bak'), 'exports.policyTypes = 1;');
      mkdirSync(join(dir, 'nested'));
      writeFileSync(join(dir, 'nested', 'deep.js'), 'exports.policyTypes = 1;');
      expect(loadPluginPolicyTypes(dir)).toEqual([]);
    });

    it.each([
      ['exports no policyTypes', 'module.exports = { types: [] };'],
      ['exports policyTypes that is not an array', 'exports.policyTypes = { name: "x" };'],
      [
        'exports an entry without create',
        'exports.policyTypes = [{ name: "x", description: "", options: {} }];',
      ],
      [
        'exports an entry without options',
        'exports.policyTypes = [{ name: "x", description: "", create: () => ({ name: "x" }) }];',
      ],
      [
        'exports an entry without a name',
        'exports.policyTypes = [{ description: "", options: {}, create: () => ({ name: "x" }) }];',
      ],
      ['exports null in the list', 'exports.policyTypes = [null];'],
    ])('rejects a module that %s, naming the file', (_label, source) => {
      const path = join(dir, 'bad.cjs');
      writeFileSync(path, source);
      const error = errorOf(() => loadPluginPolicyTypes(dir));
      expect(error).toBeInstanceOf(PolicyConfigException);
      expect(error).toMatchObject({
        source: path,
        problems: ['a policy plugin must export `policyTypes`: an array of policy types'],
      });
    });

    it('rejects the whole directory when one module is bad, even after good ones', () => {
      writeFileSync(join(dir, 'a-good.js'), 'exports.policyTypes = [];');
      writeFileSync(join(dir, 'b-bad.js'), 'exports.nothing = true;');
      expect(() => loadPluginPolicyTypes(dir)).toThrow(PolicyConfigException);
    });

    it('lets the error of a module that fails to load through', () => {
      writeFileSync(join(dir, 'throws.js'), 'throw new Error("plugin init failed");');
      expect(() => loadPluginPolicyTypes(dir)).toThrow('plugin init failed');
    });

    it('fails when the directory does not exist', () => {
      expect(errorOf(() => loadPluginPolicyTypes(join(dir, 'absent')))).toMatchObject({ code: 'ENOENT' });
    });
  });
});
