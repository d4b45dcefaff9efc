import { otlpType, type MessageType } from './schema.js';

export type SignalName = 'metrics' | 'logs' | 'traces';

/** Everything that differs between the three OTLP signals, in one place. */
export interface Signal {
  name: SignalName;
  request: MessageType;
  response: MessageType;
  /** Suffix of the Unity Catalog table the signal is written to. */
  tableSuffix: '_otel_metrics' | '_otel_logs' | '_otel_spans';
  /** Field of the partial success message counting rejected items. */
  rejectedField: 'rejectedDataPoints' | 'rejectedLogRecords' | 'rejectedSpans';
}

const SIGNALS: Record<SignalName, Signal> = {
  metrics: {
    name: 'metrics',
    request: otlpType('ExportMetricsServiceRequest'),
    response: otlpType('ExportMetricsServiceResponse'),
    tableSuffix: '_otel_metrics',
    rejectedField: 'rejectedDataPoints',
  },
  logs: {
    name: 'logs',
    request: otlpType('ExportLogsServiceRequest'),
    response: otlpType('ExportLogsServiceResponse'),
    tableSuffix: '_otel_logs',
    rejectedField: 'rejectedLogRecords',
  },
  traces: {
    name: 'traces',
    request: otlpType('ExportTraceServiceRequest'),
    response: otlpType('ExportTraceServiceResponse'),
    tableSuffix: '_otel_spans',
    rejectedField: 'rejectedSpans',
  },
};

export function signalNamed(name: string): Signal | undefined {
  return Object.hasOwn(SIGNALS, name) ? SIGNALS[name as SignalName] : undefined;
}
