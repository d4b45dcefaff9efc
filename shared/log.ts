/*
 * Structured logs: one JSON object per line, so the Functions host and Application Insights keep the
 * fields apart. Events are named (`export.refused`, `startup.failed`, `secret.read`...); fields carry
 * route, signal, agent, status, reason, duration and, under the host, the invocation id. Nothing that
 * reaches a log is a secret: callers log names and reasons, never values, and free text that could
 * hold one (error stacks, upstream reasons) passes through `redact` first.
 */

export type LogLevel = 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Log {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** The same log with fields added to every line (e.g. the invocation id). */
  with(fields: LogFields): Log;
}

/** Where finished lines go: the console locally, the invocation's context under the host. */
export type LogSink = (level: LogLevel, line: string) => void;

export const consoleSink: LogSink = (level, line) => {
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
};

export function jsonLog(sink: LogSink, base: LogFields = {}): Log {
  const write = (level: LogLevel) => (event: string, fields?: LogFields) =>
    sink(level, JSON.stringify({ time: new Date().toISOString(), level, event, ...base, ...fields }));
  return { info: write('info'), warn: write('warn'), error: write('error'), with: (fields) => jsonLog(sink, { ...base, ...fields }) };
}

export const silentLog: Log = { info() {}, warn() {}, error() {}, with: () => silentLog };

const SECRET_SHAPES = [
  /(bearer|basic)\s+[^\s"',;]+/gi, // Authorization header values
  /eyJ[\w-]+\.[\w-]+\.[\w-]*/g, // JWTs (relay credentials, Entra tokens)
  /dapi[0-9a-f]{16,}(-\d+)?/gi, // Databricks personal access tokens
];

/** Free text with anything shaped like a credential replaced, for error stacks and upstream reasons. */
export function redact(text: string): string {
  return SECRET_SHAPES.reduce((out, shape) => out.replace(shape, (match) => `${/^(bearer|basic)\s/i.test(match) ? match.split(/\s/)[0] + ' ' : ''}[redacted]`), text);
}
