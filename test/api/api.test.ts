import { readFileSync } from 'node:fs';
import { createClient as createSseClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { printGatewaySchema } from '../../src/graphql/schema.js';
import { startGateway, type Gateway } from '../support/harness.js';
import { CHAT_STREAM, CONVERSATIONS, HEALTH, SEND_MESSAGE } from '../support/operations.js';

let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(async () => {
  await gateway?.close();
});

test('the committed schema.graphql is the schema the code emits', () => {
  const committed = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
  expect(printGatewaySchema()).toBe(committed);
});

describe('public fields', () => {
  test('health and version need no credentials and describe the providers', async () => {
    const result = await gateway.anonymous().execute(HEALTH);
    expect(result.status).toBe(200);
    const { health, version } = result.data;
    expect(health.status).toBe('ok');
    expect(['pglite', 'postgresql']).toContain(health.database);
    expect(health.pubsub).toBe('memory');
    expect(health.defaultModel).toBe('fake-a');
    expect(health.defaultModelDetails).toEqual({ id: 'fake-a', provider: 'fake', contextWindow: 16_000, inputPrice: 1 });
    expect(health.embeddingModel).toBeNull();
    expect(health.usingDemoProvider).toBe(false);
    expect(health.providers).toContainEqual({ id: 'fake', name: 'Fake upstream', configured: true, baseUrl: gateway.upstream.url });
    expect(health.providers).toContainEqual(expect.objectContaining({ id: 'demo', configured: true }));
    expect(version.features).toContain('streaming');
    expect(version.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('errors', () => {
  test('no credentials: UNAUTHENTICATED with HTTP 401', async () => {
    const result = await gateway.anonymous().execute(CONVERSATIONS, { first: 1 });
    expect(result.status).toBe(401);
    expect(result.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(result.errors![0]!.message).toContain('x-device-id');
  });

  test('no credentials over graphql-ws: the subscription is refused', async () => {
    const subscription = gateway.anonymous().subscribe(CHAT_STREAM, { input: { content: 'hi' } });
    await subscription.done;
    expect((subscription.errors[0] as any).extensions.code).toBe('UNAUTHENTICATED');
  });

  test('empty or overlong content is BAD_USER_INPUT with HTTP 400', async () => {
    const alice = gateway.guest();
    for (const content of ['', '   ', 'x'.repeat(2001)]) {
      const result = await alice.execute(SEND_MESSAGE, { input: { content } });
      expect(result.status).toBe(400);
      expect(result.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
      expect(result.errors![0]!.message).toContain('2000');
    }
    const atLimit = await alice.execute(SEND_MESSAGE, { input: { content: 'x'.repeat(2000) } });
    expect(atLimit.errors).toBeUndefined();
  });

  test('an unknown model is BAD_USER_INPUT naming the model, and nothing is stored', async () => {
    const alice = gateway.guest();
    const result = await alice.execute(SEND_MESSAGE, { input: { content: 'hi', models: ['fake-a', 'gpt-17-ultra'] } });
    expect(result.status).toBe(400);
    expect(result.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toContain('gpt-17-ultra');
    expect((await alice.execute(CONVERSATIONS, { first: 5 })).data.conversations.totalCount).toBe(0);
  });

  test('a known model whose provider is not configured is PROVIDER_UNAVAILABLE (503)', async () => {
    const result = await gateway.guest().execute(SEND_MESSAGE, { input: { content: 'hi', models: ['deepseek-chat'] } });
    expect(result.status).toBe(503);
    expect(result.errors![0]!.extensions!.code).toBe('PROVIDER_UNAVAILABLE');
  });

  test('a malformed id is BAD_USER_INPUT, not an internal error', async () => {
    const result = await gateway.guest().execute(SEND_MESSAGE, { input: { content: 'hi', conversationId: 'not-an-id' } });
    expect(result.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });
});

describe('transports', () => {
  test('chatStream over server-sent events (graphql-sse)', async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ tokens: 6 });
    const client = createSseClient({ url: `${gateway.url}/graphql`, headers: alice.headers, retryAttempts: 0 });
    const events: any[] = [];
    await new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: CHAT_STREAM, variables: { input: { content: 'over SSE' } } },
        { next: (value) => events.push(value.data!.chatStream), error: reject, complete: resolve },
      );
    });
    client.dispose();
    // Six tokens and the end (tokens waiting for a follower that fell behind may arrive merged, so the end is known by its seq).
    const seqs = events.map((event) => event.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(events.at(-1)).toMatchObject({ __typename: 'MessageFinished', seq: 7 });
    const text = events
      .filter((event) => event.__typename === 'TokenDelta')
      .map((event) => event.delta)
      .join('');
    expect(events.at(-1).message.content).toBe(text);
  });

  test('connection_init payload carries the same headers as HTTP', async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ tokens: 2 });
    const events = await alice.subscribe(CHAT_STREAM, { input: { content: 'ws' } }).done;
    const conversations = await alice.execute(CONVERSATIONS, { first: 5 });
    expect(events.at(-1)!.chatStream).toMatchObject({ __typename: 'MessageFinished', seq: 3 });
    expect(conversations.data.conversations.edges[0].node.title).toBe('ws');
  });
});

test('GraphiQL is served with its assets inlined, opening on a chatStream with a guest header', async () => {
  const response = await fetch(`${gateway.url}/graphql`, { headers: { accept: 'text/html' } });
  expect(response.status).toBe(200);
  const page = await response.text();
  expect(page).toContain('<title>AI chat gateway</title>');
  expect(page).not.toMatch(/<(script|link)[^>]+(src|href)="https?:\/\//);
  expect(page).toContain('chatStream(input');
  expect(page).toContain('x-device-id');
});
