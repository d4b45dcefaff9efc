import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { bufferedBody } from '../shared/http.js';
import { streamBody } from '../shared/stream-body.js';

const chunks = [Buffer.from('hello '), Buffer.from('streamed '), Buffer.from('world')];
const whole = Buffer.concat(chunks);

async function* iterable(): AsyncIterable<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

describe('reading a body with room before it', () => {
  it.each([
    ['declared, node stream', () => streamBody(Readable.from(chunks), whole.length)],
    ['declared, web stream', () => streamBody(iterable(), whole.length)],
    ['chunked, node stream', () => streamBody(Readable.from(chunks), undefined)],
    ['longer than declared', () => streamBody(Readable.from(chunks), 6)],
    ['already in memory', () => bufferedBody(whole)],
  ])('%s: the bytes, preceded in their own buffer by the room asked for', async (_case, body) => {
    const bytes = await body().read(1024, undefined, 100);
    expect(Buffer.from(bytes)).toEqual(whole);
    expect(bytes.byteOffset).toBeGreaterThanOrEqual(100);
    // Writing the room leaves the body as it was.
    new Uint8Array(bytes.buffer, bytes.byteOffset - 100, 100).fill(0);
    expect(Buffer.from(bytes)).toEqual(whole);
  });

  it('hands the only chunk over as it came when no room is asked for', async () => {
    const bytes = await streamBody(Readable.from([whole]), undefined).read(1024);
    expect(bytes).toBe(whole);
  });
});
