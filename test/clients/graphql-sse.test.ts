import { createClient, type Client, type ExecutionResult } from 'graphql-sse';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGateway, type Gateway } from '../support/harness.js';
import { CHAT_STREAM, CONVERSATIONS } from '../support/operations.js';

// graphql-sse's own client, in both of its modes, against the real server.
let gateway: Gateway;
const clients: Client[] = [];
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(async () => {
  for (const client of clients) client.dispose();
  await gateway?.close();
});

function sseClient(headers: Record<string, string>, singleConnection: boolean) {
  const client = createClient({ url: `${gateway.url}/graphql`, headers, singleConnection, retryAttempts: 0 });
  clients.push(client);
  return client;
}

function collect(client: Client, query: string, variables: Record<string, unknown>): Promise<ExecutionResult<any, unknown>[]> {
  const results: ExecutionResult<any, unknown>[] = [];
  return new Promise((resolve, reject) => {
    client.subscribe({ query, variables }, { next: (value) => results.push(value), error: reject, complete: () => resolve(results) });
  });
}

const textOf = (results: ExecutionResult<any, unknown>[]) =>
  results
    .map((result) => result.data.chatStream)
    .filter((event) => event.__typename === 'TokenDelta')
    .map((event) => event.delta)
    .join('');

for (const singleConnection of [false, true]) {
  test(`chatStream and a query over graphql-sse (${singleConnection ? 'single connection' : 'distinct connections'})`, async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ tokens: 5, delayMs: 5 });
    const client = sseClient(alice.headers, singleConnection);
    // Two replies at once: over one stream in single-connection mode.
    const [first, second] = await Promise.all([
      collect(client, CHAT_STREAM, { input: { content: `first ${singleConnection}` } }),
      collect(client, CHAT_STREAM, { input: { content: `second ${singleConnection}` } }),
    ]);
    for (const results of [first, second]) {
      // Five tokens and the end: the end's seq is 6 even when waiting tokens arrive merged.
      expect(results.at(-1)!.data.chatStream.seq).toBe(6);
      expect(results.every((result) => !result.errors)).toBe(true);
      const finished = results.at(-1)!.data.chatStream;
      expect(finished.message.status).toBe('COMPLETE');
      expect(finished.message.content).toBe(textOf(results));
    }
    const [listed] = await collect(client, CONVERSATIONS, { first: 5 });
    expect(listed!.data.conversations.edges.map((edge: any) => edge.node.title).sort()).toEqual([`first ${singleConnection}`, `second ${singleConnection}`]);
  });
}

test('single connection: a bad credential is an error result for the operation, in the error code clients know', async () => {
  const client = sseClient({ authorization: 'Bearer gwk_not-a-key' }, true);
  const [result] = await collect(client, CONVERSATIONS, { first: 1 });
  expect(result!.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  expect(result!.errors?.[0]?.extensions?.http).toBeUndefined();
});

test('single connection: the reservation is a PUT that answers a token, and an unknown token finds no stream', async () => {
  const reserved = await fetch(`${gateway.url}/graphql`, { method: 'PUT', headers: { accept: 'text/plain' } });
  expect(reserved.status).toBe(201);
  expect((await reserved.text()).length).toBeGreaterThan(10);
  const unknown = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': 'no-such-token' },
    body: JSON.stringify({ query: '{ version }', extensions: { operationId: '1' } }),
  });
  expect(unknown.status).toBe(404);
});

test('a subscription as EventSource sends it (a GET, no preflight header, no cookie) streams its events', async () => {
  const alice = gateway.guest();
  gateway.upstream.behave({ tokens: 3 });
  const query = encodeURIComponent('subscription { chatStream(input: { content: "over GET" }) { __typename seq } }');
  const response = await fetch(`${gateway.url}/graphql?query=${query}`, { headers: { accept: 'text/event-stream', ...alice.headers } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const events = (await response.text())
    .split('\n\n')
    .filter((event) => event.startsWith('event: next'))
    .map((event) => JSON.parse(event.slice(event.indexOf('data: ') + 6)).data.chatStream);
  // Three tokens and the end (tokens waiting for a follower that fell behind may arrive merged, under the last one's seq).
  expect(events.at(-1)).toMatchObject({ __typename: 'MessageFinished', seq: 4 });
  const seqs = events.map((event) => event.seq);
  expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
});

test('single connection: unopened reservations are bounded and dropped after SSE_RESERVATION_TTL_MS', async () => {
  const bounded = await startGateway({ sse: { reservationTtlMs: 300, maxReservations: 2 } });
  try {
    const reserve = () => fetch(`${bounded.url}/graphql`, { method: 'PUT', headers: { accept: 'text/plain', 'accept-language': 'fr' } });
    const first = await reserve();
    expect(first.status).toBe(201);
    const token = await first.text();
    expect((await reserve()).status).toBe(201);
    const full = await reserve();
    expect(full.status).toBe(503);
    const body = await full.json();
    expect(body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
    expect(body.errors[0].message).toMatch(/réservés/);

    // Not opened in time: the reservation is gone, and there is room again.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const late = await fetch(`${bounded.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
      body: JSON.stringify({ query: '{ version }', extensions: { operationId: '1' } }),
    });
    expect(late.status).toBe(404);
    expect((await reserve()).status).toBe(201);
  } finally {
    await bounded.close();
  }
});
