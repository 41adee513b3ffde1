import type { Readable } from 'node:stream';

/**
 * Reads a whole body, or stops (destroying the stream) and resolves `undefined` as soon as it exceeds `limit`
 * bytes, so an oversized body is never buffered whole.
 */
export async function readBodyWithin(stream: Readable, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      stream.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
}
