import { constantTimeEqual } from '../constant-time.js';
import { jsonResponse, type Handler } from '../http.js';
import { protobufCodec } from '../otlp/codec.js';
import { contentEncoding, decompress } from '../otlp/decompress.js';
import { signalNamed } from '../otlp/signals.js';
import { errorResponse } from '../relay/respond.js';
import { otlpRows } from './otlp-rows.js';
import type { TelemetryDb } from './telemetry-db.js';

export const INGEST_BASE_PATH = '/api/2.0/otel';

export interface EmbeddedIngestOptions {
  db: TelemetryDb;
  token: string;
  tableHeader: string;
  maxBodyBytes: number;
}

/**
 * A local stand-in for the Databricks OTel ingest endpoint, as strict as the real one is documented
 * to be: bearer token required, one existing table per request named in the table header, OTLP
 * protobuf only. Accepted data becomes rows in DuckDB before the 200 is sent.
 */
export function embeddedIngest(options: EmbeddedIngestOptions): Handler {
  const headerName = options.tableHeader.toLowerCase();
  return async (request) => {
    const match = /^\/api\/2\.0\/otel\/v1\/([a-z]+)$/.exec(request.url.split('?')[0]!);
    const signal = match ? signalNamed(match[1]!) : undefined;
    if (!signal) return jsonResponse(404, { error_code: 'NOT_FOUND', message: 'no such endpoint' });
    if (request.method !== 'POST') return errorResponse(protobufCodec, 405, 'use POST');
    if (!constantTimeEqual(request.headers.authorization ?? '', `Bearer ${options.token}`)) {
      return jsonResponse(401, { error_code: 'UNAUTHENTICATED', message: 'invalid access token' });
    }
    if (request.headers['content-type']?.split(';')[0]?.trim() !== 'application/x-protobuf') {
      return jsonResponse(415, { error_code: 'INVALID_PARAMETER_VALUE', message: 'only application/x-protobuf is supported' });
    }
    const table = request.headers[headerName];
    if (!table) return errorResponse(protobufCodec, 400, `missing header ${options.tableHeader}`);
    if (table !== options.db.tables[signal.name].table) {
      return errorResponse(protobufCodec, 400, `table ${table} does not exist or does not hold ${signal.name}`);
    }
    let decoded: object;
    try {
      const body = await decompress(await request.body.read(options.maxBodyBytes), contentEncoding(request.headers['content-encoding']), options.maxBodyBytes);
      decoded = signal.request.decode(body);
    } catch (err) {
      return errorResponse(protobufCodec, 400, `cannot decode ${signal.request.name}: ${(err as Error).message}`);
    }
    await options.db.append(signal.name, otlpRows(signal.name, decoded));
    return { status: 200, headers: { 'content-type': 'application/x-protobuf' }, body: protobufCodec.encode(signal.response, {}) };
  };
}
