import type { TelemetryDb } from '../../shared/local/telemetry-db.js';
import { otlpRows } from '../../shared/local/otlp-rows.js';
import { signalNamed, type SignalName } from '../../shared/otlp/signals.js';

/** Synthetic OTLP exports shaped like the agents' (see test/fixtures/agents), for roll-up cases. */

export interface Who {
  service: string;
  userId?: string;
  email?: string;
  sessionId?: string;
}

const nanos = (iso: string) => String(BigInt(Date.parse(iso)) * 1_000_000n);

function kv(attributes: Record<string, string | number>) {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: typeof value === 'number' ? (Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value }) : { stringValue: value } }));
}

function resource(who: Who) {
  const attributes: Record<string, string> = { 'service.name': who.service };
  if (who.userId) attributes['user.id'] = who.userId;
  if (who.email) attributes['user.email'] = who.email;
  if (who.sessionId) attributes['session.id'] = who.sessionId;
  return { attributes: kv(attributes) };
}

export interface LogEvent {
  at: string;
  body?: string;
  attributes: Record<string, string | number>;
}

export function logs(who: Who, events: LogEvent[]) {
  return {
    resourceLogs: [
      { resource: resource(who), scopeLogs: [{ logRecords: events.map((e) => ({ timeUnixNano: nanos(e.at), body: e.body ? { stringValue: e.body } : undefined, attributes: kv(e.attributes) })) }] },
    ],
  };
}

export interface SumPoint {
  at: string;
  start: string;
  value: number;
  attributes: Record<string, string>;
}

export function sums(who: Who, name: string, temporality: 'delta' | 'cumulative', points: SumPoint[]) {
  return {
    resourceMetrics: [
      {
        resource: resource(who),
        scopeMetrics: [
          {
            metrics: [
              {
                name,
                sum: {
                  aggregationTemporality: temporality === 'delta' ? 1 : 2,
                  isMonotonic: true,
                  dataPoints: points.map((p) => ({ startTimeUnixNano: nanos(p.start), timeUnixNano: nanos(p.at), asDouble: p.value, attributes: kv(p.attributes) })),
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

/** Writes an export into the embedded tables as the embedded ingest would. */
export async function ingest(db: TelemetryDb, signal: SignalName, request: object): Promise<void> {
  const type = signalNamed(signal)!.request;
  await db.append(signal, otlpRows(signal, type.decode(type.encode(type.fromObject(request)).finish())));
}

export function claudeApiRequest(at: string, requestId: string, tokens: { input: number; output: number; cacheRead?: number; cacheCreation?: number; cost?: number }, model = 'databricks-claude-opus-4-6'): LogEvent {
  return {
    at,
    body: 'claude_code.api_request',
    attributes: {
      'event.name': 'api_request',
      'session.id': 's-claude',
      model,
      request_id: requestId,
      input_tokens: tokens.input,
      output_tokens: tokens.output,
      cache_read_tokens: tokens.cacheRead ?? 0,
      cache_creation_tokens: tokens.cacheCreation ?? 0,
      cost_usd: tokens.cost ?? 0.001,
    },
  };
}

/** One row of the AI Gateway's usage table, as the gateway logs a model request. */
export interface GatewayRequest {
  requestId: string;
  at: string;
  requester: string;
  userAgent: string;
  url?: string;
  model: string;
  input: number;
  output: number;
  cacheRead?: number;
  cacheCreation?: number;
}

/** Writes rows into the local stand-in of the gateway usage table (`<catalog>.ai_gateway.usage`). */
export async function gatewayRows(db: TelemetryDb, table: string, requests: GatewayRequest[]): Promise<void> {
  for (const r of requests) {
    await db.connection.run(
      `INSERT INTO ${table} (request_id, event_time, requester, user_agent, url, destination_model, input_tokens, output_tokens, total_tokens, token_details)
       VALUES ($id, CAST($at AS TIMESTAMPTZ), $requester, $ua, $url, $model, $input, $output, $total, {'cache_read_input_tokens': $cr, 'cache_creation_input_tokens': $cw})`,
      {
        id: r.requestId,
        at: r.at,
        requester: r.requester,
        ua: r.userAgent,
        url: r.url ?? 'https://gateway.example/openai/v1/responses',
        model: r.model,
        input: BigInt(r.input),
        output: BigInt(r.output),
        total: BigInt(r.input + r.output),
        cr: r.cacheRead === undefined ? null : BigInt(r.cacheRead),
        cw: r.cacheCreation === undefined ? null : BigInt(r.cacheCreation),
      } as never,
    );
  }
}
