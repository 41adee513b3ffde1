import fc from 'fast-check';
import { InvalidConfigException } from '@warden/config';
import { parseOverrides, rateLimitConfig, ruleOf } from './rate-limit.config';

const ID_A = '0123456789ab';
const ID_B = 'ffffffffffff';

describe('rateLimitConfig', () => {
  it('is off by default', () => {
    expect(rateLimitConfig.parse({})).toMatchObject({ enabled: false, defaultRule: { rpm: 0, burst: 0 } });
  });

  it('defaults the burst to the per-minute rate', () => {
    expect(rateLimitConfig.parse({ RATE_LIMIT_RPM: '120' }).defaultRule).toEqual({ rpm: 120, burst: 120 });
    expect(rateLimitConfig.parse({ RATE_LIMIT_RPM: '120', RATE_LIMIT_BURST: '10' }).defaultRule).toEqual({
      rpm: 120,
      burst: 10,
    });
  });

  it('is on when only an override limits', () => {
    const cfg = rateLimitConfig.parse({ RATE_LIMIT_OVERRIDES: `${ID_A}=30:5` });
    expect(cfg.enabled).toBe(true);
    expect(cfg.overrides.get(ID_A)).toEqual({ rpm: 30, burst: 5 });
    expect(rateLimitConfig.parse({ RATE_LIMIT_OVERRIDES: `${ID_A}=0` }).enabled).toBe(false);
  });

  it('refuses a negative rate, naming the variable', () => {
    expect(() => rateLimitConfig.parse({ RATE_LIMIT_RPM: '-1' })).toThrow(/RATE_LIMIT_RPM/);
  });

  it('never echoes a rejected override entry (it may be a key)', () => {
    const secret = 'sk-live-very-secret-key';
    let error: unknown;
    try {
      rateLimitConfig.parse({ RATE_LIMIT_OVERRIDES: `${secret}=10` });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidConfigException);
    expect((error as Error).message).toContain('RATE_LIMIT_OVERRIDES entry 1');
    expect((error as Error).message).not.toContain(secret);
  });
});

describe('parseOverrides', () => {
  it('reads keyId=rpm and keyId=rpm:burst entries, with spaces and upper-case ids', () => {
    const { overrides, problems } = parseOverrides(` ${ID_A}=60 , ${ID_B.toUpperCase()} = 600:20 ,`);
    expect(problems).toEqual([]);
    expect([...overrides]).toEqual([
      [ID_A, { rpm: 60, burst: 60 }],
      [ID_B, { rpm: 600, burst: 20 }],
    ]);
  });

  it.each([
    ['no equals sign', ID_A],
    ['a short id', 'abc=10'],
    ['a non-hex id', 'zzzzzzzzzzzz=10'],
    ['a fractional rate', `${ID_A}=1.5`],
    ['a negative burst', `${ID_A}=10:-1`],
    ['an empty rate', `${ID_A}=`],
  ])('reports %s', (_name, value) => {
    const { overrides, problems } = parseOverrides(value);
    expect(overrides.size).toBe(0);
    expect(problems).toHaveLength(1);
  });

  it('reports a key listed twice', () => {
    expect(parseOverrides(`${ID_A}=1,${ID_A}=2`).problems).toEqual([expect.stringContaining('listed twice')]);
  });

  it('round-trips any list of valid entries', () => {
    const entry = fc.record({
      id: fc.stringMatching(/^[0-9a-f]{12}$/),
      rpm: fc.integer({ min: 0, max: 1_000_000 }),
      burst: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => e.id, maxLength: 10 }), (entries) => {
        const text = entries
          .map((e) => `${e.id}=${e.rpm}${e.burst === undefined ? '' : `:${e.burst}`}`)
          .join(',');
        const { overrides, problems } = parseOverrides(text);
        expect(problems).toEqual([]);
        for (const e of entries) expect(overrides.get(e.id)).toEqual(ruleOf(e.rpm, e.burst));
      }),
    );
  });
});
