import { ProtocolViolation } from '../canonical/protocol-violation';

/** One server-sent event as received. */
export interface SseFrame {
  /** The `event:` field; absent when the frame has none (or an empty one), i.e. the default `message` type. */
  event?: string;
  /** The `data:` lines joined by `\n` (a single `data:` line with no value gives `''`). */
  data: string;
  /** The `id:` field of this frame, when it has one. Not carried over from earlier frames. */
  id?: string;
  /** The `retry:` field of this frame, when it has one made of ASCII digits only. */
  retry?: number;
  /**
   * The exact text of the frame as received, from the end of the previous frame through this frame's
   * terminating blank line (comment lines included), so that a passthrough can forward the original bytes.
   */
  raw: string;
  /**
   * Set on the last frame of a stream that ended without its blank line ({@link SseDecoder.end}): its `raw` does
   * not end the event, and text written after it would join it (see {@link terminatedRaw}).
   */
  unterminated?: true;
}

/** A frame's `raw`, ended with a blank line when the stream ended without one (forwarded, it ends its event). */
export function terminatedRaw(frame: SseFrame): string {
  return frame.unterminated === true ? `${frame.raw}\n\n` : frame.raw;
}

/** Options of {@link SseDecoder}. */
export interface SseDecoderOptions {
  /** Largest frame accepted, in UTF-8 bytes; a larger frame throws {@link ProtocolViolation}. */
  maxFrameBytes?: number;
}

/** Default bound on one frame: 16 MiB. */
export const DEFAULT_MAX_SSE_FRAME_BYTES = 16 * 1024 * 1024;

const LF = '\n';
const CR = '\r';
const BOM = '\uFEFF';
const LF_CODE = 0x0a;
const CR_CODE = 0x0d;
const COLON_CODE = 0x3a;
const SPACE_CODE = 0x20;
const NOT_FOUND = -1;
const DIGITS = /^[0-9]+$/;

/**
 * Incremental parser of a `text/event-stream` (WHATWG HTML, "Parsing an event stream"): `\n`, `\r\n` and `\r`
 * line endings (also a `\r\n` split across chunks), `data:` with or without the space, multi-line data joined
 * by `\n`, comment lines (`:`) ignored, `event`, `id` and `retry` fields, a leading BOM dropped, and UTF-8
 * characters split across chunks decoded correctly. As the spec says, a frame without any `data` field (only
 * comments, or only `event:`) yields nothing and its text is not part of any `raw`.
 *
 * A `\r` at the very end of a chunk is held back until the next chunk (or {@link SseDecoder.end}) tells whether
 * a `\n` follows, so that `raw` always holds whole frames.
 *
 * Do not mix string and byte chunks in one stream while a multi-byte character is pending.
 */
export class SseDecoder {
  private readonly maxFrameBytes: number;
  private readonly utf8 = new TextDecoder('utf-8');
  /** Text not parsed yet: from the start of the first incomplete line. */
  private buffer = '';
  /** Chunks received after {@link buffer} that end no line: joined to it only when a line can end. */
  private readonly pending: string[] = [];
  /** Text of the current frame parsed already (its complete lines): kept for its `raw`. */
  private readonly frameParts: string[] = [];
  /** UTF-8 size of the current frame's text: {@link frameParts}, {@link buffer} and {@link pending}. */
  private bufferBytes = 0;
  private started = false;
  private data: string | undefined = undefined;
  private event: string | undefined = undefined;
  private id: string | undefined = undefined;
  private retry: number | undefined = undefined;

  constructor(options?: SseDecoderOptions) {
    this.maxFrameBytes = options?.maxFrameBytes ?? DEFAULT_MAX_SSE_FRAME_BYTES;
  }

  /**
   * Feeds the next chunk of the stream; returns the frames it completed (often none or one). Linear in the size of
   * the stream however it is cut: a chunk that ends no line is only set aside, and text is searched once.
   */
  push(chunk: Uint8Array | string): SseFrame[] {
    let text = typeof chunk === 'string' ? chunk : this.utf8.decode(chunk, { stream: true });
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.startsWith(BOM)) text = text.slice(BOM.length);
    }
    if (text.length === 0) return [];
    this.bufferBytes += Buffer.byteLength(text);
    // A `\r` ending the buffer waits for the next character; otherwise only a line ending can complete a line.
    const pendingCr = this.pending.length === 0 && this.buffer.charCodeAt(this.buffer.length - 1) === CR_CODE;
    if (!pendingCr && !text.includes(LF) && !text.includes(CR)) {
      this.pending.push(text);
      this.checkSize(this.bufferBytes);
      return [];
    }
    this.buffer += this.takePending() + text;
    return this.parse(false);
  }

  /**
   * Ends the stream: flushes the UTF-8 decoder, treats a pending `\r` or unterminated last line as a complete
   * line, and yields the final frame even though no blank line terminated it, but only if it has data (the
   * WHATWG spec would drop it; a truncated frame then usually fails its JSON parse, which is the clearer
   * error). The decoder is reset and may be reused.
   */
  end(): SseFrame[] {
    const tail = this.utf8.decode();
    if (tail.length > 0) this.bufferBytes += Buffer.byteLength(tail);
    this.buffer += this.takePending() + tail;
    const frames = this.parse(true);
    if (this.buffer.length > 0) this.processLine(this.buffer);
    const raw = this.frameParts.join('') + this.buffer;
    if (this.data !== undefined && raw.length > 0)
      frames.push({ ...this.makeFrame(raw), unterminated: true });
    this.buffer = '';
    this.frameParts.length = 0;
    this.bufferBytes = 0;
    this.started = false;
    this.resetFields();
    return frames;
  }

  /** The chunks set aside, as one string (and none left aside). */
  private takePending(): string {
    if (this.pending.length === 0) return '';
    const text = this.pending.join('');
    this.pending.length = 0;
    return text;
  }

  /** Parses the complete lines of {@link buffer}; keeps the rest of it (from the first incomplete line). */
  private parse(final: boolean): SseFrame[] {
    const frames: SseFrame[] = [];
    const buffer = this.buffer;
    const length = buffer.length;
    let pos = 0;
    /** Where the part of the current frame that is in `buffer` starts. */
    let frameStart = 0;
    let nextLf = buffer.indexOf(LF);
    let nextCr = buffer.indexOf(CR);
    for (;;) {
      if (nextLf !== NOT_FOUND && nextLf < pos) nextLf = buffer.indexOf(LF, pos);
      if (nextCr !== NOT_FOUND && nextCr < pos) nextCr = buffer.indexOf(CR, pos);
      let eol: number;
      let next: number;
      if (nextCr === NOT_FOUND || (nextLf !== NOT_FOUND && nextLf < nextCr)) {
        if (nextLf === NOT_FOUND) break;
        eol = nextLf;
        next = eol + 1;
      } else {
        eol = nextCr;
        if (eol + 1 < length) next = buffer.charCodeAt(eol + 1) === LF_CODE ? eol + 2 : eol + 1;
        else if (final) next = eol + 1;
        else break;
      }
      if (eol === pos) {
        // Blank line: the frame ends here.
        const end = buffer.slice(frameStart, next);
        const raw = this.frameParts.length === 0 ? end : this.frameParts.join('') + end;
        this.frameParts.length = 0;
        const rawBytes = Buffer.byteLength(raw);
        this.checkSize(rawBytes);
        if (this.data !== undefined) frames.push(this.makeFrame(raw));
        this.resetFields();
        this.bufferBytes -= rawBytes;
        frameStart = next;
      } else {
        this.processLine(buffer.slice(pos, eol));
      }
      pos = next;
    }
    if (pos > frameStart) this.frameParts.push(buffer.slice(frameStart, pos));
    this.buffer = pos > 0 ? buffer.slice(pos) : buffer;
    this.checkSize(this.bufferBytes);
    return frames;
  }

  private processLine(line: string): void {
    if (line.charCodeAt(0) === COLON_CODE) return;
    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon === NOT_FOUND) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      const valueStart = line.charCodeAt(colon + 1) === SPACE_CODE ? colon + 2 : colon + 1;
      value = line.slice(valueStart);
    }
    switch (field) {
      case 'data':
        this.data = this.data === undefined ? value : this.data + LF + value;
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      case 'retry':
        if (DIGITS.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
  }

  private makeFrame(raw: string): SseFrame {
    const frame: SseFrame = { data: this.data ?? '', raw };
    if (this.event !== undefined && this.event !== '') frame.event = this.event;
    if (this.id !== undefined) frame.id = this.id;
    if (this.retry !== undefined) frame.retry = this.retry;
    return frame;
  }

  private resetFields(): void {
    this.data = undefined;
    this.event = undefined;
    this.id = undefined;
    this.retry = undefined;
  }

  private checkSize(bytes: number): void {
    if (bytes > this.maxFrameBytes) {
      throw new ProtocolViolation(
        `SSE frame of ${bytes} bytes exceeds the limit of ${this.maxFrameBytes} bytes`,
      );
    }
  }
}
