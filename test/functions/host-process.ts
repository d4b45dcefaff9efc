/*
 * One Functions worker process, as a stand-in: loads the entry files of a folder (`dist/azure`, the
 * bundle that is published, or `functions`, the sources), runs appStart, sends one export and then one
 * usage request, and prints one JSON line per phase with what it measured and, with RECORD_MODULES
 * set, which modules had been loaded by then (every URL Node resolved). Used by test/functions/published.test.ts and
 * test/bench/startup/run.ts. Settings come from the environment.
 */
import { readdirSync } from 'node:fs';
import { register } from 'node:module';
import { join, resolve } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { installStandInHost } from './stand-in-host.js';

const resolved: string[] = [];
if (process.env.RECORD_MODULES) {
  // Off for timing: the hook adds a round trip to the loader thread per module.
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (url: string) => resolved.push(url));
  port1.unref();
  const hook = `let port; export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) { const result = await next(specifier, context); port.postMessage(result.url); return result; }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`, { data: { port: port2 }, transferList: [port2] });
}

const settle = () => new Promise((r) => setTimeout(r, 50));
const dir = resolve(process.argv[2] ?? 'dist/azure');
const standIn = installStandInHost();

const started = performance.now();
for (const file of readdirSync(dir).filter((f) => /\.(js|ts)$/.test(f)).sort()) await import(pathToFileURL(join(dir, file)).href);
const entriesMs = performance.now() - started;
const appStarted = performance.now();
await standIn.runHooks('appStart');
const appStartMs = performance.now() - appStarted;

const sdk = await import('@azure/functions');
async function call(name: string, method: string, url: string, params: Record<string, string>, headers: Record<string, string> = {}, body?: Uint8Array) {
  const request = new sdk.HttpRequest({ method, url: `https://relay.example.net${url}`, params, headers, body: body ? { bytes: body } : undefined });
  const context = new sdk.InvocationContext({ invocationId: 'x', functionName: name, logHandler: (_level, ...args) => console.error(...args) });
  return (await standIn.functions.get(name)!.handler(request, context)) as { status: number };
}

const body = Buffer.from(process.env.EXPORT_BODY_BASE64 ?? '', 'base64');
const exportStatus = (await call('otel', 'POST', '/api/otel/v1/metrics', { signal: 'metrics' }, { 'content-type': 'application/x-protobuf', authorization: process.env.EXPORT_AUTHORIZATION ?? '' }, body)).status;
await settle();
console.log(JSON.stringify({ phase: 'export', entriesMs, appStartMs, registered: [...standIn.functions.keys()], status: exportStatus, resolved }));
const usageStatus = (await call('usageRollup', 'POST', '/api/usage/rollup', {})).status;
await settle();
console.log(JSON.stringify({ phase: 'usage', status: usageStatus, resolved }));
await standIn.runHooks('appTerminate');
