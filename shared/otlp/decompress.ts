import zlib from 'node:zlib';
import { BodyTooLargeError } from '../http.js';

export class UnsupportedEncodingError extends Error {}
export class CorruptBodyError extends Error {}

export type ContentEncoding = 'identity' | 'gzip' | 'deflate';

/** The encoding a Content-Encoding header names, checked before any of the body is read. */
export function contentEncoding(header: string | undefined): ContentEncoding {
  const encoding = (header ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return 'identity';
  if (encoding === 'gzip' || encoding === 'x-gzip') return 'gzip';
  if (encoding === 'deflate') return 'deflate';
  throw new UnsupportedEncodingError(`unsupported Content-Encoding "${encoding}" (supported: gzip, deflate, identity)`);
}

/**
 * Undoes a Content-Encoding as a stream, never keeping more than `maxBytes` (a gzip bomb stops at the
 * limit instead of filling memory); `onChunk` is told each output chunk's size before it is kept and
 * may throw to stop. "deflate" is zlib-wrapped per RFC 9110; raw deflate is accepted too because some
 * clients send it (told apart by the zlib header, RFC 1950).
 */
export async function decompress(body: Uint8Array, encoding: ContentEncoding, maxBytes: number, onChunk?: (bytes: number) => void): Promise<Uint8Array> {
  if (encoding === 'identity') return body;
  const zlibWrapped = body.length >= 2 && (body[0]! & 0x0f) === 8 && ((body[0]! << 8) | body[1]!) % 31 === 0;
  const stream = encoding === 'gzip' ? zlib.createGunzip() : zlibWrapped ? zlib.createInflate() : zlib.createInflateRaw();
  stream.end(body);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw new BodyTooLargeError(`decompressed body exceeds ${maxBytes} bytes`);
      onChunk?.(chunk.length);
      chunks.push(chunk);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code?.startsWith('Z_')) throw new CorruptBodyError(`cannot decode ${encoding} body: ${(err as Error).message}`);
    throw err;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}
