import type { Readable } from 'node:stream';
import { BodyTooLargeError, Refusal, type RequestBody } from './http.js';

/** A body arriving as a stream, and what became of it. */
export interface StreamedBody extends RequestBody {
  /** True once the body was read to its end (else the connection cannot carry another request). */
  readonly finished: boolean;
  /** Stops reading and lets go of the stream (after the response: it may close the connection). */
  discard(): void;
}

/**
 * The one body reader of the local runner and the Functions adapter: chunks are kept as they arrive,
 * and reading stops at the first chunk past the limit, so nothing past `maxBytes` is ever buffered;
 * what has not been asked for is not read at all (the stream applies backpressure). A body whose
 * length was declared is read into one buffer of that size (see SIZED_MAX_BYTES).
 */
export function streamBody(source: Readable | AsyncIterable<Uint8Array>, declaredLength: number | undefined): StreamedBody {
  return new Body(source, declaredLength);
}

/*
 * A class, not an object literal with a `finished` getter: a getter closed over per-request state gives
 * every body its own hidden class, which V8 allocates in old space; at thousands of requests a second
 * that kept old space growing by a megabyte per scavenge and cost full collections (--trace-gc).
 */
class Body implements StreamedBody {
  private started = false;
  private done = false;

  constructor(
    private readonly source: Readable | AsyncIterable<Uint8Array>,
    readonly declaredLength: number | undefined,
  ) {}

  get finished(): boolean {
    return this.done;
  }

  async read(maxBytes: number, onChunk?: (bytes: number) => void, headroom = 0): Promise<Uint8Array> {
    if (this.started) throw new Error('the request body was already read');
    if (this.declaredLength !== undefined && this.declaredLength > maxBytes) throw new BodyTooLargeError(`body exceeds ${maxBytes} bytes`);
    this.started = true;
    const collector = new Collector(this.declaredLength, maxBytes, onChunk, headroom);
    const { source } = this;
    await (isNodeStream(source) ? readNodeStream(source, collector) : readIterable(source, collector));
    this.done = true;
    return collector.bytes();
  }

  discard(): void {
    if (this.done) return;
    const { source } = this;
    if (isNodeStream(source)) source.destroy();
    else void source[Symbol.asyncIterator]().return?.()?.catch(() => {});
  }
}

function isNodeStream(source: Readable | AsyncIterable<Uint8Array>): source is Readable {
  return typeof (source as Readable).pipe === 'function' && typeof (source as Readable).on === 'function';
}

/**
 * Declared lengths up to this are read into one buffer of that size, reserved (told to `onChunk`)
 * before the first byte arrives; longer bodies are kept chunk by chunk as they arrive and joined, so
 * that a large declared length pins no memory before its bytes come.
 */
const SIZED_MAX_BYTES = 1024 * 1024;

/**
 * The chunks of one body, into one buffer of the declared size when there is one, `headroom` bytes
 * into it (the room is not counted against the byte budget: a small fixed amount per export in flight).
 */
class Collector {
  /** The sized buffer and how much of it is filled; chunks past it (a body longer than declared) are kept apart. */
  private readonly buffer: Buffer | undefined;
  private filled = 0;
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  constructor(
    declaredLength: number | undefined,
    private readonly maxBytes: number,
    private readonly onChunk: ((bytes: number) => void) | undefined,
    private readonly headroom: number,
  ) {
    if (declaredLength !== undefined && declaredLength > 0 && declaredLength <= SIZED_MAX_BYTES) {
      onChunk?.(declaredLength);
      this.buffer = Buffer.allocUnsafe(headroom + declaredLength);
    }
  }

  /** Throws BodyTooLargeError (or what onChunk throws) to stop reading. */
  add(chunk: Uint8Array): void {
    const size = this.size + chunk.length;
    if (size > this.maxBytes) throw new BodyTooLargeError(`body exceeds ${this.maxBytes} bytes`);
    if (this.buffer && this.chunks.length === 0 && this.headroom + size <= this.buffer.length) {
      this.buffer.set(chunk, this.headroom + this.size);
      this.filled = size;
    } else {
      this.onChunk?.(chunk.length);
      this.chunks.push(chunk);
    }
    this.size = size;
  }

  bytes(): Uint8Array {
    const { buffer, chunks, filled, size, headroom } = this;
    if (buffer && chunks.length === 0) return buffer.subarray(headroom, headroom + filled);
    const pieces = buffer ? [buffer.subarray(headroom, headroom + filled), ...chunks] : chunks;
    if (headroom === 0 && pieces.length === 1) return pieces[0]!;
    const joined = Buffer.allocUnsafe(headroom + size);
    let at = headroom;
    for (const piece of pieces) {
      joined.set(piece, at);
      at += piece.length;
    }
    return joined.subarray(headroom);
  }
}

/**
 * A node:http request, read with events: its async iterator cost about 4 us per request in the
 * relay's profile. Paused again when reading stops early, so the rest stays in the socket until the
 * response is sent (the server then closes the connection).
 */
function readNodeStream(source: Readable, collector: Collector): Promise<void> {
  if (source.destroyed) return Promise.reject(new Refusal(400, 'request body could not be read: aborted'));
  return new Promise((resolve, reject) => {
    const stop = (err?: unknown) => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onClose);
      if (err === undefined) return resolve();
      source.pause();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      try {
        collector.add(chunk);
      } catch (err) {
        stop(err);
      }
    };
    const onEnd = () => stop();
    const onError = (err: Error) => stop(new Refusal(400, `request body could not be read: ${err.message}`));
    const onClose = () => stop(new Refusal(400, 'request body could not be read: aborted'));
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onError);
    source.on('close', onClose);
  });
}

/** Any other stream (the Functions host hands a web ReadableStream). */
async function readIterable(source: AsyncIterable<Uint8Array>, collector: Collector): Promise<void> {
  const iterator = source[Symbol.asyncIterator]();
  const next = () => iterator.next().catch((err: Error) => Promise.reject(new Refusal(400, `request body could not be read: ${err.message}`)));
  // next() by hand: leaving a for-await early would destroy the stream before the response is written.
  for (let chunk = await next(); !chunk.done; chunk = await next()) collector.add(chunk.value);
}
