import fc from 'fast-check';
import { ProtocolViolation } from '../canonical/protocol-violation';
import { type SseFrame, SseDecoder, terminatedRaw } from './sse-decoder';
import { encodeSseFrame } from './sse-encoder';

const utf8 = new TextEncoder();

/** Decodes `chunks` in order, then `end()`. */
function decodeAll(chunks: (Uint8Array | string)[], decoder = new SseDecoder()): SseFrame[] {
  const frames: SseFrame[] = [];
  for (const chunk of chunks) frames.push(...decoder.push(chunk));
  frames.push(...decoder.end());
  return frames;
}

/** Splits `bytes` at the given positions (any values: taken modulo the length, sorted, deduplicated). */
function splitAt<T extends Uint8Array | string>(whole: T, cuts: number[]): T[] {
  const length = whole.length;
  const positions = [...new Set(cuts.map((c) => (length === 0 ? 0 : c % (length + 1))))].sort(
    (a, b) => a - b,
  );
  const parts: T[] = [];
  let start = 0;
  for (const p of positions) {
    parts.push(whole.slice(start, p) as T);
    start = p;
  }
  parts.push(whole.slice(start) as T);
  return parts;
}

/** A line of text without line breaks: any code points, astral ones included. */
const line = fc.string({ unit: 'binary', maxLength: 12 }).map((s) => s.replace(/[\r\n]/g, ''));
const eventName = fc.option(
  line.filter((s) => s !== ''),
  { nil: undefined },
);
const data = fc.array(line, { minLength: 1, maxLength: 4 });
const lineEnding = fc.constantFrom('\n', '\r\n', '\r');
const cuts = fc.array(fc.nat(), { maxLength: 12 });

describe('SseDecoder', () => {
  it('parses LF, CRLF and CR line endings, with and without the space after the colon', () => {
    const frames = decodeAll([
      'event: a\ndata: 1\n\n',
      'event:b\r\ndata:2\r\n\r\n',
      'data: 3\r\rdata:  4\n\n',
    ]);
    expect(frames.map((f) => [f.event, f.data])).toEqual([
      ['a', '1'],
      ['b', '2'],
      [undefined, '3'],
      [undefined, ' 4'],
    ]);
    expect(frames.map((f) => f.raw).join('')).toBe(
      'event: a\ndata: 1\n\nevent:b\r\ndata:2\r\n\r\ndata: 3\r\rdata:  4\n\n',
    );
  });

  it('joins multi-line data with \\n and keeps an empty data line', () => {
    expect(decodeAll(['data: a\ndata:\ndata: b\n\n'])[0]?.data).toBe('a\n\nb');
    expect(decodeAll(['data\n\n'])[0]?.data).toBe('');
  });

  it('ignores comments; a frame of comments (or without data) yields nothing', () => {
    const frames = decodeAll([': keep-alive\n\n', 'event: x\n\n', ': c\ndata: 1\n: d\n\n']);
    expect(frames).toEqual([{ data: '1', raw: ': c\ndata: 1\n: d\n\n' }]);
  });

  it('reads id and retry of the frame, ignores unknown fields and bad retry values', () => {
    const [a, b] = decodeAll(['id: 7\nretry: 1500\nfoo: bar\ndata: x\n\n', 'retry: 1.5\ndata: y\n\n']);
    expect(a).toMatchObject({ id: '7', retry: 1500, data: 'x' });
    expect(b?.id).toBeUndefined();
    expect(b?.retry).toBeUndefined();
  });

  it('handles a \\r\\n split across chunks without a phantom blank line', () => {
    const decoder = new SseDecoder();
    expect(decoder.push('data: a\r')).toEqual([]);
    expect(decoder.push('\n')).toEqual([]);
    expect(decoder.push('data: b\r\n\r')).toEqual([]);
    expect(decoder.push('\n')).toEqual([{ data: 'a\nb', raw: 'data: a\r\ndata: b\r\n\r\n' }]);
  });

  it('decodes a multi-byte character split across byte chunks and drops a leading BOM', () => {
    const bytes = utf8.encode('\uFEFFdata: é😀\n\n');
    const frames = decodeAll([...bytes].map((b) => Uint8Array.of(b)));
    expect(frames).toEqual([{ data: 'é😀', raw: 'data: é😀\n\n' }]);
  });

  it('end() flushes an unterminated final frame only when it has data', () => {
    expect(decodeAll(['data: a\n\ndata: b'])).toEqual([
      { data: 'a', raw: 'data: a\n\n' },
      { data: 'b', raw: 'data: b', unterminated: true },
    ]);
    expect(decodeAll(['data: a\r'])).toEqual([{ data: 'a', raw: 'data: a\r', unterminated: true }]);
    // Forwarded, an unterminated frame is ended with a blank line (what follows must not join it).
    for (const text of ['data: b', 'data: b\n', 'data: b\r']) {
      const frame = decodeAll([text])[0] as SseFrame;
      expect(decodeAll([`${terminatedRaw(frame)}data: c\n\n`]).map((f) => f.data)).toEqual(['b', 'c']);
    }
    expect(terminatedRaw({ data: 'a', raw: 'data: a\n\n' })).toBe('data: a\n\n');
    expect(decodeAll(['data: a\n\nevent: x\n'])).toEqual([{ data: 'a', raw: 'data: a\n\n' }]);
  });

  it('throws ProtocolViolation for a frame over maxFrameBytes, whole or incremental', () => {
    expect(() => new SseDecoder({ maxFrameBytes: 8 }).push('data: 0123456789\n\n')).toThrow(
      ProtocolViolation,
    );
    const decoder = new SseDecoder({ maxFrameBytes: 16 });
    expect(decoder.push('data: 0123')).toEqual([]);
    expect(() => decoder.push('456789é')).toThrow(/exceeds the limit of 16 bytes/);
    const ok = new SseDecoder({ maxFrameBytes: 12 });
    expect(ok.push('data: é\n\ndata: 1234\n\n')).toHaveLength(2);
  });

  it('property: encoded frames split anywhere in the bytes decode to the same frames, raw = input', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(eventName, data), { maxLength: 6 }), cuts, (specs, cutPoints) => {
        const encoded = specs.map(([event, lines]) => encodeSseFrame(lines.join('\n'), event));
        const text = encoded.join('');
        const frames = decodeAll(splitAt(utf8.encode(text), cutPoints));
        expect(frames.map((f) => ({ event: f.event, data: f.data }))).toEqual(
          specs.map(([event, lines]) => ({ event, data: lines.join('\n') })),
        );
        expect(frames.map((f) => f.raw)).toEqual(encoded);
        expect(frames.map((f) => f.raw).join('')).toBe(text);
      }),
    );
  });

  it('property: any line endings and comments, split in bytes or in UTF-16 units, decode the same', () => {
    const frameSpec = fc.record({
      event: eventName,
      data,
      ending: lineEnding,
      space: fc.boolean(),
      comment: fc.option(line, { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(frameSpec, { maxLength: 5 }), cuts, fc.boolean(), (specs, cutPoints, asBytes) => {
        const raws = specs.map(({ event, data: lines, ending, space, comment }) => {
          let raw = comment === undefined ? '' : `:${comment}${ending}`;
          if (event !== undefined) raw += `event:${space ? ' ' : ''}${event}${ending}`;
          for (const l of lines) raw += `data:${space || l.startsWith(' ') ? ' ' : ''}${l}${ending}`;
          return raw + ending;
        });
        const text = raws.join('');
        const chunks = asBytes ? splitAt(utf8.encode(text), cutPoints) : splitAt(text, cutPoints);
        const frames = decodeAll(chunks);
        expect(frames.map((f) => ({ event: f.event, data: f.data }))).toEqual(
          specs.map((s) => ({ event: s.event, data: s.data.join('\n') })),
        );
        expect(frames.map((f) => f.raw)).toEqual(raws);
      }),
    );
  });
});
