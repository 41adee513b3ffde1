import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import { ControlChannel, type ControlListener, type ControlMessage } from '@warden/events';
import { BUILTIN_POLICY_TYPES, PolicyConfigException, PolicyEngine, PolicyRegistry } from '@warden/policy';
import { PolicySyncService, SupersededSwapError } from './policy-sync.service';

/**
 * A control channel whose deliveries the test makes, in the order it chooses (Redis keeps a channel's order; the
 * service must not depend on it), and whose sequence numbers come from a counter the replicas share.
 */
class ScriptedChannel extends ControlChannel {
  readonly sent: ControlMessage[] = [];
  private listener: ControlListener | undefined;
  private connectListener: (() => void) | undefined;

  constructor(
    readonly instanceId: string,
    private readonly sequence: () => Promise<number>,
    /** What the replicas' channels keep (shared, as Redis is). */
    private readonly store: { kept?: ControlMessage; failing?: boolean } = {},
  ) {
    super();
  }

  keep(message: ControlMessage): Promise<void> {
    if (this.store.failing === true) return Promise.reject(new Error('Redis is not connected'));
    if ((this.store.kept?.seq ?? 0) < (message.seq ?? 0)) this.store.kept = message;
    return Promise.resolve();
  }

  kept(): Promise<ControlMessage | undefined> {
    return Promise.resolve(this.store.kept);
  }

  onConnect(listener: () => void): () => void {
    this.connectListener = listener;
    return () => {
      this.connectListener = undefined;
    };
  }

  /** The channel (re)connects: the service catches up (resolved once it has). */
  async connect(): Promise<void> {
    this.connectListener?.();
    await new Promise((resolve) => setImmediate(resolve));
  }

  broadcast(message: ControlMessage): Promise<void> {
    this.sent.push(message);
    return Promise.resolve();
  }

  nextSequence(): Promise<number> {
    return this.sequence();
  }

  onMessage(listener: ControlListener): () => void {
    this.listener = listener;
    return () => {
      this.listener = undefined;
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  deliver(message: ControlMessage): void {
    this.listener?.(message);
  }
}

/** A chain that tells which swap made it: one string-replace rule with the label. */
const chain = (label: string): unknown => ({
  policies: [{ type: 'string-replace', options: { rules: [{ match: 'x', replace: label }] } }],
});

interface Replica {
  channel: ScriptedChannel;
  engine: PolicyEngine;
  sync: PolicySyncService;
}

function replica(
  id: string,
  sequence: () => Promise<number>,
  store: { kept?: ControlMessage; failing?: boolean } = {},
  file: unknown = chain('startup'),
): Replica {
  const registry = new PolicyRegistry();
  for (const type of BUILTIN_POLICY_TYPES) registry.register(type);
  const engine = new PolicyEngine(registry, {}, 4096, file, 'policy.yaml');
  const channel = new ScriptedChannel(id, sequence, store);
  const sync = new PolicySyncService(engine, channel);
  sync.onModuleInit();
  return { channel, engine, sync };
}

function counter(): () => Promise<number> {
  let last = 0;
  return () => Promise.resolve(++last);
}

describe('PolicySyncService', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('leaves every replica with the newest swap, whatever order the messages arrive in', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(2), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
        async (origins, seeds) => {
          const next = counter();
          const replicas = ['a', 'b', 'c'].map((id) => replica(id, next));
          for (const [i, origin] of origins.entries()) {
            await (replicas[origin] as Replica).sync.swap(chain(`swap-${i}`), 'test');
          }
          const messages = replicas.flatMap((r) => r.channel.sent);
          for (const [i, r] of replicas.entries()) {
            const others = messages.filter((m) => m.origin !== r.channel.instanceId);
            // A permutation of the others' messages, from this replica's seed.
            const order = others
              .map((m, k) => ({ m, key: ((seeds[i] as number) * 7919 + k * 104729) % 1009 }))
              .sort((x, y) => x.key - y.key);
            for (const { m } of order) r.channel.deliver(m);
          }
          const last = chain(`swap-${origins.length - 1}`);
          for (const r of replicas) expect(r.engine.describe().config).toEqual(last);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('sends each swap with its sequence number, and reports whether it was sent', async () => {
    const r = replica('a', counter());
    const swapped = await r.sync.swap(chain('one'), 'test');
    expect(swapped).toMatchObject({ replicated: true, active: { config: chain('one') } });
    const [sent] = r.channel.sent;
    expect(r.channel.sent).toHaveLength(1);
    expect(sent).toMatchObject({
      type: 'policy.swap',
      config: chain('one'),
      version: swapped.active.version,
      origin: 'a',
      seq: 1,
    });
    expect(sent?.base).toMatch(/^[0-9a-f]{16}$/);
  });

  it('gives a replica that starts later, over the same policy file, the newest swap when it connects', async () => {
    const next = counter();
    const store = {};
    const a = replica('a', next, store);
    await a.sync.swap(chain('one'), 'test');
    await a.sync.swap(chain('two'), 'test');
    const late = replica('late', next, store);
    expect(late.engine.describe().config).toEqual(chain('startup'));
    await late.channel.connect();
    expect(late.engine.describe().config).toEqual(chain('two'));
    // A message it had already seen, delivered late, changes nothing; a newer swap still applies.
    late.channel.deliver(a.channel.sent[0] as ControlMessage);
    expect(late.engine.describe().config).toEqual(chain('two'));
    await a.sync.swap(chain('three'), 'test');
    late.channel.deliver(a.channel.sent[2] as ControlMessage);
    expect(late.engine.describe().config).toEqual(chain('three'));
  });

  it('holds startup until the first connection has brought the newest swap', async () => {
    const next = counter();
    const store = {};
    const a = replica('a', next, store);
    await a.sync.swap(chain('swapped before start'), 'test');
    const late = replica('late', next, store);
    let started = false;
    const bootstrap = late.sync.onApplicationBootstrap(60_000).then(() => {
      started = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toBe(false);
    await late.channel.connect();
    await bootstrap;
    expect(late.engine.describe().config).toEqual(chain('swapped before start'));
  });

  it('starts on its policy file after a bounded wait when the channel does not connect', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const r = replica('alone', counter());
      const began = Date.now();
      await r.sync.onApplicationBootstrap(50);
      expect(Date.now() - began).toBeGreaterThanOrEqual(45);
      expect(r.engine.describe().config).toEqual(chain('startup'));
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('did not connect within 50 ms'));
    } finally {
      warn.mockRestore();
    }
  });

  it('keeps its own policy file when the newest swap was made over another one', async () => {
    const next = counter();
    const store = {};
    const a = replica('a', next, store);
    await a.sync.swap(chain('runtime'), 'test');
    const redeployed = replica('new', next, store, chain('edited file'));
    await redeployed.channel.connect();
    expect(redeployed.engine.describe().config).toEqual(chain('edited file'));
  });

  it('catches up on reconnecting with the swap it missed while away', async () => {
    const next = counter();
    const store = {};
    const a = replica('a', next, store);
    const b = replica('b', next, store);
    await b.channel.connect();
    await a.sync.swap(chain('missed'), 'test');
    // b was away: the broadcast never reached it.
    expect(b.engine.describe().config).toEqual(chain('startup'));
    await b.channel.connect();
    expect(b.engine.describe().config).toEqual(chain('missed'));
  });

  it('sends a swap made while the channel was down when it is back, instead of taking an older kept one', async () => {
    const next = counter();
    let down = false;
    const sequence = (): Promise<number> => (down ? Promise.reject(new Error('Redis is down')) : next());
    const store: { kept?: ControlMessage } = {};
    const a = replica('a', sequence, store);
    const b = replica('b', sequence, store);
    await b.sync.swap(chain('older'), 'test');
    down = true;
    expect((await a.sync.swap(chain('made while down'), 'test')).replicated).toBe(false);
    down = false;
    await a.channel.connect();
    expect(a.engine.describe().config).toEqual(chain('made while down'));
    expect(store.kept?.config).toEqual(chain('made while down'));
    b.channel.deliver(a.channel.sent.at(-1) as ControlMessage);
    expect(b.engine.describe().config).toEqual(chain('made while down'));
    // Sent once: a later connection catches up as usual.
    await a.channel.connect();
    expect(a.channel.sent).toHaveLength(1);
  });

  it('still sends a swap it could not keep', async () => {
    const r = replica('a', counter(), { failing: true });
    const swapped = await r.sync.swap(chain('one'), 'test');
    expect(swapped.replicated).toBe(true);
    expect(r.channel.sent).toHaveLength(1);
  });

  it('refuses a swap that a newer one overtook while it was being ordered, and changes nothing', async () => {
    let release: (seq: number) => void = () => undefined;
    const r = replica('a', () => new Promise<number>((resolve) => (release = resolve)));
    const pending = r.sync.swap(chain('mine'), 'test');
    r.channel.deliver({ type: 'policy.swap', config: chain('theirs'), version: 4, origin: 'b', seq: 10 });
    release(9);
    await expect(pending).rejects.toBeInstanceOf(SupersededSwapError);
    await expect(pending).rejects.toThrow(/replica b/);
    expect(r.engine.describe().config).toEqual(chain('theirs'));
    expect(r.channel.sent).toEqual([]);
  });

  it('ignores a message older than the chain it holds, and applies one from a replica without sequences', () => {
    const r = replica('a', counter());
    r.channel.deliver({ type: 'policy.swap', config: chain('five'), version: 1, origin: 'b', seq: 5 });
    r.channel.deliver({ type: 'policy.swap', config: chain('three'), version: 1, origin: 'c', seq: 3 });
    expect(r.engine.describe().config).toEqual(chain('five'));
    r.channel.deliver({ type: 'policy.swap', config: chain('legacy'), version: 1, origin: 'd' });
    expect(r.engine.describe().config).toEqual(chain('legacy'));
  });

  it('swaps here only when no sequence number can be had (Redis down)', async () => {
    const r = replica('a', () => Promise.reject(new Error('Redis is not connected')));
    const swapped = await r.sync.swap(chain('local'), 'test');
    expect(swapped.replicated).toBe(false);
    expect(r.engine.describe().config).toEqual(chain('local'));
    expect(r.channel.sent).toEqual([]);
  });

  it('throws the engine error for an invalid chain and sends nothing', async () => {
    const r = replica('a', counter());
    await expect(r.sync.swap({ policies: [{ type: 'no-such-type' }] }, 'test')).rejects.toBeInstanceOf(
      PolicyConfigException,
    );
    expect(r.engine.describe().config).toEqual(chain('startup'));
    expect(r.channel.sent).toEqual([]);
  });
});
