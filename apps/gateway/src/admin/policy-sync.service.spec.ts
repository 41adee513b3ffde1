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

  constructor(
    readonly instanceId: string,
    private readonly sequence: () => Promise<number>,
  ) {
    super();
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

function replica(id: string, sequence: () => Promise<number>): Replica {
  const registry = new PolicyRegistry();
  for (const type of BUILTIN_POLICY_TYPES) registry.register(type);
  const engine = new PolicyEngine(registry, {}, 4096, chain('startup'), 'policy.yaml');
  const channel = new ScriptedChannel(id, sequence);
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
    expect(r.channel.sent).toEqual([
      { type: 'policy.swap', config: chain('one'), version: swapped.active.version, origin: 'a', seq: 1 },
    ]);
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
