import { promisify } from 'node:util';
import zlib from 'node:zlib';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);

export class UnsupportedEncodingError extends Error {}
export class CorruptBodyError extends Error {}
export class BodyTooLargeError extends Error {}

/**
 * Undoes Content-Encoding, never producing more than `maxBytes` (so a gzip bomb stops at the limit
 * instead of filling memory). "deflate" is zlib-wrapped per RFC 9110; raw deflate is accepted too
 * because some clients send it.
 */
export async function decompress(body: Uint8Array, contentEncoding: string | undefined, maxBytes: number): Promise<Uint8Array> {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return body;
  const options = { maxOutputLength: maxBytes };
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip') return await gunzip(body, options);
    if (encoding === 'deflate') {
      return await inflate(body, options).catch((err: NodeJS.ErrnoException) =>
        err.code === 'Z_DATA_ERROR' ? inflateRaw(body, options) : Promise.reject(err),
      );
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE') throw new BodyTooLargeError(`decompressed body exceeds ${maxBytes} bytes`);
    throw new CorruptBodyError(`cannot decode ${encoding} body: ${e.message}`);
  }
  throw new UnsupportedEncodingError(`unsupported Content-Encoding "${encoding}" (supported: gzip, deflate, identity)`);
}
