import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { defaultUpstreamPolicy } from '../../src/lib/llm/upstream-policy.js';
import { countTokens } from '../../src/lib/tokens.js';
import { startGateway, type Gateway } from '../support/harness.js';
import { CHAT } from '../support/operations.js';

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({
    upstream: { ...defaultUpstreamPolicy, retryBaseMs: 5, firstTokenTimeoutMs: 400, idleTimeoutMs: 400, maxRetryAfterMs: 1_500 },
    fallbackModels: { 'fake-b': ['fake-c'] },
  });
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

const chats = () => gateway.upstream.requests.filter((request) => request.path.endsWith('/chat/completions'));
const balanceOf = async (userId: string) => (await gateway.app.services.db.prisma.user.findUniqueOrThrow({ where: { id: userId } })).creditBalance;

async function ask(input: Record<string, unknown>) {
  const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
  const result = await user.execute(CHAT, { input: { content: 'hello', ...input } });
  expect(result.errors).toBeUndefined();
  return { user, reply: result.data.chat.replies[0] };
}

describe('retries before the first token', () => {
  test('transient 503s are retried and the reply completes', async () => {
    gateway.upstream.behave({ failStatus: 503, failTimes: 2, tokens: 5 });
    const { reply } = await ask({});
    expect(reply.status).toBe('COMPLETE');
    expect(reply.content).toBe('tok1 tok2 tok3 tok4 tok5 ');
    expect(chats()).toHaveLength(3);
  });

  test("a 429's Retry-After is honoured before the next try", async () => {
    gateway.upstream.behave({ failStatus: 429, failTimes: 1, retryAfterSeconds: 1, tokens: 3 });
    const { reply } = await ask({});
    expect(reply.status).toBe('COMPLETE');
    const [first, second] = chats();
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  test('at most two retries; then the reply fails with the provider error and costs nothing', async () => {
    gateway.upstream.behave({ failStatus: 500 });
    const { user, reply } = await ask({});
    expect(reply).toMatchObject({ status: 'FAILED', content: '', error: { code: 'PROVIDER_ERROR' } });
    expect(chats()).toHaveLength(3);
    expect(await balanceOf(user.id)).toBe(1_000_000);
  });

  test('a client error (400) is not retried', async () => {
    gateway.upstream.behave({ failStatus: 400 });
    const { reply } = await ask({});
    expect(reply.status).toBe('FAILED');
    expect(chats()).toHaveLength(1);
  });

  test('no first token in time counts as transient: retried, then UPSTREAM_TIMEOUT', async () => {
    gateway.upstream.behave({ firstTokenDelayMs: 2_000, tokens: 3 });
    const { reply } = await ask({});
    expect(reply).toMatchObject({ status: 'FAILED', error: { code: 'UPSTREAM_TIMEOUT' } });
    expect(chats()).toHaveLength(3);
  });
});

describe('after the first token', () => {
  test('a stream gone silent ends as UPSTREAM_TIMEOUT with the text that came, paid for by what came', async () => {
    gateway.upstream.behave({ tokens: 50, stallAfter: 4 });
    const { user, reply } = await ask({ models: ['fake-a'] });
    expect(reply).toMatchObject({ status: 'FAILED', content: 'tok1 tok2 tok3 tok4 ', error: { code: 'UPSTREAM_TIMEOUT' } });
    expect(chats()).toHaveLength(1);
    // No usage came from the provider, so the gateway counted both sides itself.
    // fake-a costs $1 per 1M input tokens and $2 per 1M output tokens: 1 and 2 credits.
    const spent = 1_000_000 - (await balanceOf(user.id));
    expect(spent).toBe(reply.usage.inputTokens + 2 * reply.usage.outputTokens);
    expect(reply.usage.outputTokens).toBe(countTokens('tok1 tok2 tok3 tok4 ', 'fake-a'));
  });

  test('a dropped stream is not retried: the partial reply is stored', async () => {
    gateway.upstream.behave({ tokens: 50, delayMs: 5, disconnectAfter: 6 });
    const { reply } = await ask({});
    expect(reply).toMatchObject({ status: 'FAILED', error: { code: 'STREAM_INTERRUPTED' } });
    expect(reply.content).toBe('tok1 tok2 tok3 tok4 tok5 tok6 ');
    expect(chats()).toHaveLength(1);
  });
});

describe('fallback models', () => {
  test('per request: when the model keeps failing, the next one answers and the reply says which', async () => {
    gateway.upstream.behave({ failStatus: 503, failModels: ['fake-a'], tokens: 3 });
    const { reply } = await ask({ models: ['fake-a'], fallbackModels: ['fake-b'] });
    expect(reply).toMatchObject({ status: 'COMPLETE', model: { id: 'fake-b' }, content: 'tok1 tok2 tok3 ' });
    expect(chats().map((request) => request.body.model)).toEqual(['fake-a', 'fake-a', 'fake-a', 'fake-b']);
  });

  test('from configuration (FALLBACK_MODELS), and usage is recorded against the model that answered', async () => {
    gateway.upstream.behave({ failStatus: 502, failModels: ['fake-b'], tokens: 2 });
    const { user, reply } = await ask({ models: ['fake-b'] });
    expect(reply).toMatchObject({ status: 'COMPLETE', model: { id: 'fake-c' } });
    const usage = await user.execute('{ usage { recentActivity { model success } } }');
    expect(usage.data.usage.recentActivity).toEqual([{ model: 'fake-c', success: true }]);
  });

  test('a non-transient failure does not fall back', async () => {
    gateway.upstream.behave({ failStatus: 400, failModels: ['fake-a'] });
    const { reply } = await ask({ models: ['fake-a'], fallbackModels: ['fake-b'] });
    expect(reply).toMatchObject({ status: 'FAILED', model: { id: 'fake-a' } });
    expect(chats()).toHaveLength(1);
  });
});
