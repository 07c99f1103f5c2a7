import { type Attributes, context, propagation, ROOT_CONTEXT, type Span, SpanStatusCode, trace } from '@opentelemetry/api';

/**
 * Spans go through the OpenTelemetry API: with no tracer provider registered
 * (OTEL_EXPORTER_OTLP_ENDPOINT unset) every span is a no-op that records nothing.
 */
const tracer = () => trace.getTracer('graphql-ai-chat-gateway');

/** Runs `work` in a child span of the current one; a thrown error marks the span failed. */
export async function traced<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** One tool run of a reply, as a child of whatever span is current (the provider call or the operation). */
export function traceToolRun<T>(tool: string, work: (span: Span) => Promise<T>, attributes: Attributes = {}): Promise<T> {
  return traced(`tool ${tool}`, { 'gen_ai.tool.name': tool, ...attributes }, work);
}

/** The context a client's W3C `traceparent` (and `tracestate`) header names, or the root context. */
export function contextFromHeaders(headers: (name: string) => string | null | undefined) {
  return propagation.extract(ROOT_CONTEXT, null, {
    keys: () => ['traceparent', 'tracestate'],
    get: (_carrier, key) => headers(key) ?? undefined,
  });
}

export { context, trace, SpanStatusCode };
