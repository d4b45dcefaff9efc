import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BodyTooLargeError } from '../../shared/http.js';
import { contentEncoding, CorruptBodyError, decompress, UnsupportedEncodingError } from '../../shared/otlp/decompress.js';

const text = Buffer.from('hello otlp '.repeat(100));

describe('decompress', () => {
  it.each([
    ['gzip', gzipSync(text)],
    ['x-gzip', gzipSync(text)],
    ['deflate', deflateSync(text)],
    ['deflate', deflateRawSync(text)],
    ['identity', text],
    [undefined, text],
  ])('undoes %s', async (encoding, body) => {
    expect(Buffer.from(await decompress(body, contentEncoding(encoding), 1 << 20)).equals(text)).toBe(true);
  });

  it('stops a gzip bomb at the limit', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(100 * 1024);
    await expect(decompress(bomb, 'gzip', 1024 * 1024)).rejects.toThrow(BodyTooLargeError);
  });

  it('reports truncated gzip as corrupt', async () => {
    const gz = gzipSync(text);
    await expect(decompress(gz.subarray(0, gz.length - 10), 'gzip', 1 << 20)).rejects.toThrow(CorruptBodyError);
  });

  it('refuses encodings it does not know', async () => {
    expect(() => contentEncoding('br')).toThrow(UnsupportedEncodingError);
  });

  it('stops reading when told to by the caller', async () => {
    const seen: number[] = [];
    const stop = (bytes: number) => {
      seen.push(bytes);
      if (seen.length === 2) throw new Error('budget spent');
    };
    await expect(decompress(gzipSync(Buffer.alloc(1 << 20)), 'gzip', 1 << 21, stop)).rejects.toThrow('budget spent');
    expect(seen).toHaveLength(2);
  });
});
