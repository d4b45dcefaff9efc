import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SignalName } from '../shared/otlp/signals.js';

export const FIXTURE_DIR = join(import.meta.dirname, 'fixtures', 'agents');

export interface Fixture {
  file: string;
  agent: 'claude-code' | 'codex' | 'gemini-cli';
  signal: SignalName;
  contentType: 'application/x-protobuf' | 'application/json';
  body: Buffer;
}

/** Every real agent payload in test/fixtures/agents (copied from the shared captures). */
export function fixtures(): Fixture[] {
  const files = [
    'claude-code-2.1.197.metrics.pb',
    'claude-code-2.1.197.logs.pb',
    'codex-0.169.0.metrics.pb',
    'codex-0.169.0.logs.pb',
    'codex-0.169.0.traces.pb',
    'gemini-cli-0.61.0.metrics.json',
    'gemini-cli-0.61.0.logs.json',
    'gemini-cli-0.61.0.traces.json',
  ];
  return files.map((file) => {
    const [, agent, signal, ext] = /^(claude-code|codex|gemini-cli)-[\d.]+?\.(metrics|logs|traces)\.(pb|json)$/.exec(file)!;
    return {
      file,
      agent: agent as Fixture['agent'],
      signal: signal as SignalName,
      contentType: ext === 'pb' ? 'application/x-protobuf' : 'application/json',
      body: readFileSync(join(FIXTURE_DIR, file)),
    };
  });
}

export function fixture(file: string): Fixture {
  return fixtures().find((f) => f.file === file)!;
}
