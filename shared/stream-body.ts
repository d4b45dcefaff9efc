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
 * what has not been asked for is not read at all (the stream applies backpressure).
 */
export function streamBody(source: AsyncIterable<Uint8Array>, declaredLength: number | undefined): StreamedBody {
  let iterator: AsyncIterator<Uint8Array> | undefined;
  let finished = false;
  return {
    declaredLength,
    get finished() {
      return finished;
    },
    async read(maxBytes, onChunk) {
      if (iterator) throw new Error('the request body was already read');
      if (declaredLength !== undefined && declaredLength > maxBytes) throw new BodyTooLargeError(`body exceeds ${maxBytes} bytes`);
      iterator = source[Symbol.asyncIterator]();
      const chunks: Uint8Array[] = [];
      let size = 0;
      const next = () => iterator!.next().catch((err: Error) => Promise.reject(new Refusal(400, `request body could not be read: ${err.message}`)));
      // next() by hand: leaving a for-await early would destroy a Node request (and its socket) before
      // the response is written.
      for (let chunk = await next(); !chunk.done; chunk = await next()) {
        size += chunk.value.length;
        if (size > maxBytes) throw new BodyTooLargeError(`body exceeds ${maxBytes} bytes`);
        onChunk?.(chunk.value.length);
        chunks.push(chunk.value);
      }
      finished = true;
      return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    },
    discard() {
      if (finished) return;
      iterator ??= source[Symbol.asyncIterator]();
      void iterator.return?.()?.catch(() => {});
    },
  };
}
