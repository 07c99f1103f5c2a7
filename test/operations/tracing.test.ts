import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { traced, traceToolRun } from '../../src/lib/tracing.js';
import { eventually, startGateway, type Gateway } from '../support/harness.js';
import { CHAT, HEALTH } from '../support/operations.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let gateway: Gateway;
beforeAll(async () => {
  provider.register();
  gateway = await startGateway({ fallbackModels: {} });
});
afterAll(async () => {
  await gateway?.close();
  await provider.shutdown();
});
beforeEach(() => {
  exporter.reset();
  gateway.upstream.reset();
});

const spanNamed = (name: string) => exporter.getFinishedSpans().find((span) => span.name === name);
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

test("a turn's operation, database write and provider call are spans of the client's trace", async () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const clientSpanId = '00f067aa0ba902b7';
  gateway.upstream.behave({ failStatus: 503, failTimes: 1, tokens: 4, firstTokenDelayMs: 20 });
  const user = await gateway.user({ tier: 'PRO', credits: 1_000_000, headers: { traceparent: `00-${traceId}-${clientSpanId}-01` } });
  const result = await user.execute(CHAT, { input: { content: 'hello', models: ['fake-a'] } });
  const reply = result.data.chat.replies[0];
  expect(reply.status).toBe('COMPLETE');

  const operation = await eventually(() => spanNamed('graphql.mutation chat'));
  const write = await eventually(() => spanNamed('chat.turn.write'));
  const call = await eventually(() => spanNamed('llm.provider.call'));
  for (const span of [operation, write, call]) expect(span.spanContext().traceId).toBe(traceId);
  expect(parentOf(operation)).toBe(clientSpanId);
  expect(operation.attributes).toMatchObject({
    'graphql.operation.type': 'mutation',
    'graphql.operation.root_field': 'chat',
    'graphql.operation.name': 'Chat',
  });
  expect(parentOf(write)).toBe(operation.spanContext().spanId);
  expect(parentOf(call)).toBe(operation.spanContext().spanId);
  expect(call.attributes).toMatchObject({
    'gen_ai.request.model': 'fake-a',
    'gen_ai.response.model': 'fake-a',
    'gen_ai.usage.input_tokens': reply.usage.inputTokens,
    'gen_ai.usage.output_tokens': reply.usage.outputTokens,
    'llm.retries': 1,
    'llm.status': 'COMPLETE',
  });
  expect(call.attributes['llm.time_to_first_token_ms']).toBeGreaterThanOrEqual(20);
});

test('without a traceparent an operation starts a trace of its own', async () => {
  const result = await gateway.guest().execute(HEALTH);
  expect(result.errors).toBeUndefined();
  const operation = await eventually(() => spanNamed('graphql.query health'));
  expect(parentOf(operation)).toBeUndefined();
  expect(operation.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
});

test('a tool run is a child of the span it runs in, and its failure is recorded', async () => {
  await traced('llm.provider.call', {}, async () => {
    await traceToolRun('web_search', async () => 'results', { 'tool.call_id': 'call-1' });
    await expect(traceToolRun('calculator', async () => Promise.reject(new Error('division by zero')))).rejects.toThrow('division by zero');
  });
  const parent = spanNamed('llm.provider.call')!;
  const search = spanNamed('tool web_search')!;
  const calculator = spanNamed('tool calculator')!;
  expect(parentOf(search)).toBe(parent.spanContext().spanId);
  expect(search.attributes).toMatchObject({ 'gen_ai.tool.name': 'web_search', 'tool.call_id': 'call-1' });
  expect(calculator.status).toMatchObject({ code: 2, message: 'division by zero' });
});
