import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface Azurite {
  /** A connection string for its blob service (Azurite's published development account). */
  connectionString: string;
  blobEndpoint: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Azurite's fixed development account, published in its documentation (not a secret). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export function azuriteConnectionString(blobEndpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};BlobEndpoint=${blobEndpoint};`;
}

/**
 * Runs Azurite's entry point (argv[1]) and ends it when its parent is gone, even after a kill -9 of
 * the relay: an orphaned emulator would hold on to the data folder.
 */
const EXIT_WITH_PARENT = 'const parent = process.ppid; setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 1000).unref(); import(process.argv[1]);';

/**
 * Starts the Azurite blob service from the npm package (a dev dependency) on loopback, keeping its
 * data under `location`. Port 0 picks a free one; Azurite prints where it listens. Telemetry off (no
 * network here); the API version check off, because the SDK is newer than the emulator that still
 * runs on Node 20.
 */
export async function startAzurite(options: { location: string; port?: number }): Promise<Azurite> {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('azurite/package.json');
  const bin = (JSON.parse(readFileSync(packageJson, 'utf8')) as { bin: Record<string, string> }).bin['azurite-blob']!;
  mkdirSync(options.location, { recursive: true });
  const args = ['--blobHost', '127.0.0.1', '--blobPort', String(options.port ?? 0), '--location', options.location, '--disableTelemetry', '--skipApiVersionCheck', '--silent'];
  const child = spawn(process.execPath, ['-e', EXIT_WITH_PARENT, join(dirname(packageJson), bin), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listens on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`Azurite exited with ${code}: ${out.trim()}`)));
  });
  // Keep draining its output so a chatty emulator never blocks on a full pipe.
  child.stdout!.resume();
  child.stderr!.resume();
  const blobEndpoint = `${url}/${DEV_ACCOUNT}`;
  return {
    connectionString: azuriteConnectionString(blobEndpoint),
    blobEndpoint,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
