import { CallAbort } from './call-abort';

describe('CallAbort', () => {
  it('runs its listeners once, with the first reason, and drops removed ones', () => {
    const aborts = new CallAbort();
    const seen: string[] = [];
    aborts.onAbort(() => seen.push('a'));
    const removeB = aborts.onAbort(() => seen.push('b'));
    removeB();
    expect(aborts.aborted).toBe(false);
    aborts.abort('first');
    aborts.abort('second');
    expect(seen).toEqual(['a']);
    expect(aborts.aborted).toBe(true);
    expect(aborts.reason).toBe('first');
  });

  it('fires a signal created before the abort, and creates an aborted one after it', () => {
    const early = new CallAbort();
    const signal = early.signal;
    let fired: unknown;
    signal.addEventListener('abort', () => {
      fired = signal.reason;
    });
    early.abort('client gone');
    expect(fired).toBe('client gone');
    expect(early.signal).toBe(signal);

    const late = new CallAbort();
    late.abort('deadline');
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason).toBe('deadline');
  });

  it('never creates a signal nobody asked for', () => {
    const aborts = new CallAbort();
    const remove = aborts.onAbort(() => undefined);
    remove();
    aborts.abort('call finished');
    expect((aborts as unknown as { controller: unknown }).controller).toBeUndefined();
  });
});
