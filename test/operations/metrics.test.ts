import parsePrometheusTextFormat, { type PrometheusSample } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { defaultUpstreamPolicy } from '../../src/lib/llm/upstream-policy.js';
import { codeOf, startGateway, type Gateway } from '../support/harness.js';
import { CHAT, CHAT_STREAM } from '../support/operations.js';

const TOKEN = 'scrape-secret';
let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({
    metricsToken: TOKEN,
    guestPerMinute: 1,
    fallbackModels: { 'fake-b': ['fake-c'] },
    upstream: { ...defaultUpstreamPolicy, retryBaseMs: 5 },
  });
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

async function scrape() {
  const response = await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4');
  // The parser folds a labelled histogram's series into one; read them as plain series (name_count, name_sum) instead.
  const families = parsePrometheusTextFormat((await response.text()).replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped'));
  const samples = (name: string) => families.find((family) => family.name === name)?.metrics ?? [];
  const matching = (name: string, labels: Record<string, string>) =>
    samples(name).filter((sample: PrometheusSample) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value));
  return {
    names: families.map((family) => family.name),
    value: (name: string, labels: Record<string, string> = {}) => matching(name, labels).reduce((sum, sample) => sum + Number(sample.value ?? 0), 0),
    histogram: (name: string, labels: Record<string, string>) => ({
      count: matching(`${name}_count`, labels).reduce((sum, sample) => sum + Number(sample.value), 0),
      sum: matching(`${name}_sum`, labels).reduce((sum, sample) => sum + Number(sample.value), 0),
    }),
  };
}

test('without the bearer token /metrics is refused', async () => {
  expect((await fetch(`${gateway.url}/metrics`)).status).toBe(401);
  expect((await fetch(`${gateway.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
});

test('a streamed reply moves the reply, token, cost and latency metrics of its model, once, at settle', async () => {
  const before = await scrape();
  gateway.upstream.behave({ tokens: 6, firstTokenDelayMs: 30 });
  const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
  const stream = user.subscribe(CHAT_STREAM, { input: { content: 'count to six', models: ['fake-a'] } });
  const events = await stream.done;
  const finished = events.map((event) => event.chatStream).find((event) => event.__typename === 'MessageFinished');
  const { usage } = finished.message;
  // Six tokens streamed (a follower that fell behind gets some of them merged into one delta).
  const streamed = events.filter((event) => event.chatStream.__typename === 'TokenDelta').map((event) => event.chatStream.delta);
  expect(streamed.join('')).toBe(finished.message.content);
  expect(usage.outputTokens).toBeGreaterThanOrEqual(6);

  const after = await scrape();
  const labels = { model: 'fake-a', provider: 'fake' };
  const moved = (name: string, extra: Record<string, string> = {}) => after.value(name, { ...labels, ...extra }) - before.value(name, { ...labels, ...extra });
  expect(moved('gateway_replies_total', { status: 'COMPLETE' })).toBe(1);
  expect(moved('gateway_reply_tokens_total', { kind: 'input' })).toBe(usage.inputTokens);
  expect(moved('gateway_reply_tokens_total', { kind: 'output' })).toBe(usage.outputTokens);
  expect(moved('gateway_reply_cost_usd_total')).toBeCloseTo(usage.cost, 9);
  const firstToken = after.histogram('gateway_reply_time_to_first_token_seconds', labels);
  expect(firstToken.count - before.histogram('gateway_reply_time_to_first_token_seconds', labels).count).toBe(1);
  expect(firstToken.sum).toBeCloseTo(usage.timeToFirstTokenMs / 1000, 3);
  expect(firstToken.sum).toBeGreaterThanOrEqual(0.03);
  expect(after.histogram('gateway_reply_duration_seconds', { ...labels, status: 'COMPLETE' }).count).toBe(1);
  const operation = { type: 'subscription', operation: 'chatStream' };
  expect(after.value('gateway_graphql_operations_total', operation) - before.value('gateway_graphql_operations_total', operation)).toBe(1);
  // Per reply, not per token: one label set per model, whatever the reply's length.
  expect(after.names).toEqual(
    expect.arrayContaining(['nodejs_eventloop_lag_seconds', 'gateway_database_pool_connections', 'gateway_active_replies', 'gateway_stream_subscribers']),
  );
});

test('retries, fallbacks and refusals are counted', async () => {
  const before = await scrape();
  gateway.upstream.behave({ failStatus: 503, failModels: ['fake-b'], tokens: 2 });
  const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
  const result = await user.execute(CHAT, { input: { content: 'hello', models: ['fake-b'] } });
  expect(result.data.chat.replies[0]).toMatchObject({ status: 'COMPLETE', model: { id: 'fake-c' } });

  const guest = gateway.guest();
  await guest.execute(CHAT, { input: { content: 'one' } });
  const refused = await guest.execute(CHAT, { input: { content: 'two' } });
  expect(codeOf(refused)).toBe('RATE_LIMITED');

  const poor = await gateway.user({ tier: 'PRO', credits: 0 });
  expect(codeOf(await poor.execute(CHAT, { input: { content: 'hello', models: ['fake-a'] } }))).toBe('INSUFFICIENT_CREDITS');

  const after = await scrape();
  const moved = (name: string, labels: Record<string, string>) => after.value(name, labels) - before.value(name, labels);
  expect(moved('gateway_provider_retries_total', { requested_model: 'fake-b' })).toBe(defaultUpstreamPolicy.maxRetries);
  expect(moved('gateway_provider_fallbacks_total', { requested_model: 'fake-b', model: 'fake-c' })).toBe(1);
  expect(moved('gateway_replies_total', { model: 'fake-c', status: 'COMPLETE' })).toBe(1);
  expect(moved('gateway_refusals_total', { reason: 'rate_limit' })).toBe(1);
  expect(moved('gateway_refusals_total', { reason: 'credits' })).toBe(1);
  expect(moved('gateway_graphql_errors_total', { type: 'mutation', operation: 'chat', code: 'RATE_LIMITED' })).toBe(1);
  expect(moved('gateway_graphql_operations_total', { type: 'mutation', operation: 'chat' })).toBe(4);
});

test('active replies and subscribers are read at scrape time', async () => {
  gateway.upstream.behave({ tokens: 50, delayMs: 40 });
  const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
  const stream = user.subscribe(CHAT_STREAM, { input: { content: 'a long one', models: ['fake-a'] } });
  await expect.poll(async () => (await scrape()).value('gateway_active_replies'), { timeout: 10_000 }).toBe(1);
  expect((await scrape()).value('gateway_stream_subscribers')).toBeGreaterThanOrEqual(1);
  await stream.done;
  await expect.poll(async () => (await scrape()).value('gateway_active_replies'), { timeout: 10_000 }).toBe(0);
});
