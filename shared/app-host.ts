import type { App } from './app.js';
import { TokenMintError } from './databricks-token.js';
import { Refusal } from './http.js';
import { redact, type Log } from './log.js';
import { MAX_RETRY_AFTER_SECONDS } from './relay/classify-upstream.js';
import { SettingsError } from './settings.js';

/*
 * The app's life in a long-running worker: built once at start, closed at shutdown. A start that
 * fails (a bad setting, a secret that cannot be read) is not kept: it is tried again with backoff,
 * and until it succeeds every route answers 503 with Retry-After and a message naming the cause, so
 * OTLP clients keep their data and retry instead of receiving a final 500.
 */

export interface AppHostOptions {
  build: () => Promise<App>;
  log: Log;
  /** Delay before the second attempt; it doubles per failure up to `maxDelayMs`. */
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** How long a request waits for an attempt under way before it is answered 503. */
  waitMs?: number;
  now?: () => number;
}

type State =
  | { kind: 'idle' }
  | { kind: 'starting'; attempt: Promise<void> }
  | { kind: 'ready'; app: App }
  | { kind: 'failed'; cause: string; retryAt: number }
  | { kind: 'stopped' };

/** What a client may be told about a failed start: messages written to be public, else only that it failed. */
export function startupCause(err: unknown): string {
  if (err instanceof Refusal || err instanceof SettingsError || err instanceof TokenMintError) return err.message;
  return 'unexpected error (details in the log)';
}

export class AppHost {
  private state: State = { kind: 'idle' };
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: AppHostOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Starts the app (once); resolves when the first attempt has succeeded or failed. Never throws. */
  start(): Promise<void> {
    if (this.state.kind === 'idle') this.attempt();
    return this.state.kind === 'starting' ? this.state.attempt : Promise.resolve();
  }

  /** The app, or the 503 Refusal to answer while it is not there. */
  async current(): Promise<App | Refusal> {
    if (this.state.kind === 'idle') void this.start();
    if (this.state.kind === 'starting') {
      const waited = new Promise<void>((resolve) => setTimeout(resolve, this.options.waitMs ?? 10_000).unref());
      await Promise.race([this.state.attempt, waited]);
    }
    const state = this.state as State;
    switch (state.kind) {
      case 'ready':
        return state.app;
      case 'failed': {
        const seconds = Math.ceil((state.retryAt - this.now()) / 1000);
        const retryAfter = Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, seconds));
        return new Refusal(503, `relay not started: ${state.cause}`, { 'retry-after': String(retryAfter) });
      }
      case 'stopped':
        return new Refusal(503, 'relay is shutting down', { 'retry-after': '1' });
      default:
        return new Refusal(503, 'relay is starting', { 'retry-after': '1' });
    }
  }

  /** Closes what the app opened (upstream pool, SQL session, metric exporters); no attempt runs after. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    if (this.state.kind === 'starting') await this.state.attempt;
    const state = this.state;
    this.state = { kind: 'stopped' };
    if (state.kind === 'ready') {
      await state.app.close();
      this.options.log.info('app.stopped', {});
    }
  }

  private attempt(): void {
    const attempt = ++this.attempts;
    const started = this.now();
    const run = this.options.build().then(
      (app) => {
        if (this.state.kind === 'stopped') return void app.close();
        this.state = { kind: 'ready', app };
        this.options.log.info('startup.ready', { attempt, durationMs: this.now() - started, mode: app.settings.mode });
      },
      (err: unknown) => {
        if (this.state.kind === 'stopped') return;
        const first = this.options.firstDelayMs ?? 1000;
        const delay = Math.min(this.options.maxDelayMs ?? 60_000, first * 2 ** (attempt - 1));
        const cause = startupCause(err);
        this.state = { kind: 'failed', cause, retryAt: this.now() + delay };
        this.options.log.error('startup.failed', { attempt, durationMs: this.now() - started, cause, reason: redact((err as Error)?.stack ?? String(err)), retryInMs: delay });
        // unref: a pending retry must not keep a finished process (or a test) alive.
        this.timer = setTimeout(() => this.attempt(), delay).unref();
      },
    );
    this.state = { kind: 'starting', attempt: run };
  }
}
