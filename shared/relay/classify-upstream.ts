import { otlpType } from '../otlp/schema.js';
import type { ForwardOutcome } from './outcome.js';

/*
 * Upstream answers become outcomes an OTLP client handles well. OTLP/HTTP clients retry only 429,
 * 502, 503 and 504 (opentelemetry-proto docs/specification.md#failures), so every upstream trouble that
 * is ours rather than the client's (5xx, our token refused, a wrong URL) must reach them as 503/429,
 * never as a final 401/404/500 that would make them drop the data.
 */

/** OTel JS exporters give up when Retry-After exceeds their export timeout (10 s): keep it short. */
export const MIN_RETRY_AFTER_SECONDS = 1;
export const MAX_RETRY_AFTER_SECONDS = 3;

export function retryAfterSeconds(header: string | undefined, fallback: number): number {
  const seconds = header !== undefined && /^\s*\d+\s*$/.test(header) ? Number(header) : fallback;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(MIN_RETRY_AFTER_SECONDS, seconds));
}

/**
 * `sent` holds what the relay itself put into the request (the token, the values of the headers it
 * added): an upstream that echoes the request must not hand them to the client.
 */
export function classifyUpstream(
  status: number,
  headers: Record<string, string | undefined>,
  body: Uint8Array,
  sent: readonly string[],
): ForwardOutcome {
  if (status >= 200 && status < 300) return { kind: 'accepted', body };
  if (status === 401 || status === 403) return { kind: 'unauthorized', upstreamStatus: status };
  const reason = upstreamReason(body, headers['content-type'], sent);
  if (status === 400) return { kind: 'rejected', status: 400, reason: `upstream rejected the data: ${reason}` };
  if (status === 413) return { kind: 'rejected', status: 413, reason: `upstream refused the size: ${reason}` };
  if (status === 429) {
    return { kind: 'retryable', status: 429, retryAfterSeconds: retryAfterSeconds(headers['retry-after'], 2), reason: 'upstream is throttling' };
  }
  return {
    kind: 'retryable',
    status: 503,
    retryAfterSeconds: retryAfterSeconds(headers['retry-after'], 1),
    reason: `upstream unavailable (HTTP ${status})`,
  };
}

const RpcStatus = otlpType('RpcStatus');
const MAX_REASON_CHARS = 300;
/** Runs of this many characters of a value the relay sent count as that value (a cut or split echo). */
const MIN_FRAGMENT = 8;
const REDACTED = '[redacted]';

/**
 * The upstream's own words (a google.rpc.Status, a JSON error object or plain text) on one line, without
 * anything of `sent`, kept short.
 */
export function upstreamReason(body: Uint8Array, contentType: string | undefined, sent: readonly string[]): string {
  // Bounded before any parsing or redaction: the body may be up to a MiB.
  let reason = Buffer.from(body.subarray(0, 64 * 1024)).toString('utf8');
  try {
    if (contentType?.includes('protobuf')) {
      reason = String((RpcStatus.decode(body) as unknown as { message?: string }).message ?? '');
    } else if (contentType?.includes('json')) {
      const parsed = JSON.parse(reason) as { message?: unknown; error?: { message?: unknown } };
      const message = parsed.message ?? parsed.error?.message;
      if (typeof message === 'string') reason = message;
    }
  } catch {
    // Not what it claimed to be: fall back to the text.
  }
  // eslint-disable-next-line no-control-regex
  reason = reason.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, 4 * MAX_REASON_CHARS);
  // Longest first, so that `Bearer <token>` goes whole rather than leaving `Bearer` behind.
  for (const value of [...sent].sort((a, b) => b.length - a.length)) if (value.length >= MIN_FRAGMENT) reason = redact(reason, value);
  if (reason.length > MAX_REASON_CHARS) reason = `${reason.slice(0, MAX_REASON_CHARS)}...`;
  return reason || 'no reason given';
}

/** Replaces every run of at least MIN_FRAGMENT characters that also occurs in `value`. */
function redact(text: string, value: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    let end = i;
    if (value.includes(text.slice(i, i + MIN_FRAGMENT)) && i + MIN_FRAGMENT <= text.length) {
      end = i + MIN_FRAGMENT;
      while (end < text.length && value.includes(text.slice(i, end + 1))) end++;
    }
    if (end > i) {
      out += REDACTED;
      i = end;
    } else {
      out += text[i];
      i++;
    }
  }
  return out;
}
