import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Config } from './config.js';

/**
 * With an endpoint, spans are batched to `<endpoint>/v1/traces` over OTLP/HTTP
 * (the collector's standard path) and the W3C propagator is installed.
 * Without one nothing is registered, so tracing costs nothing.
 */
export function startTracing(tracing: Config['tracing']): { shutdown(): Promise<void> } {
  if (!tracing.endpoint) return { shutdown: async () => {} };
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': tracing.serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${tracing.endpoint.replace(/\/+$/, '')}/v1/traces` }))],
  });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}
