import { Client, cacheExchange, fetchExchange, gql, subscriptionExchange } from '@urql/core';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { pipe, subscribe } from 'wonka';
import WebSocket from 'ws';
import { startGateway, type Gateway } from '../support/harness.js';

// urql as documented, with its default options (queries as GET): fetch for
// queries and mutations, the subscription exchange forwarding to graphql-ws.
let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());

test('a query, a mutation and a streamed reply through the subscription exchange', async () => {
  const headers = { 'x-device-id': `urql-${Date.now()}` };
  const socket = createClient({ url: `${gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: headers, retryAttempts: 0 });
  const client = new Client({
    url: `${gateway.url}/graphql`,
    fetchOptions: { headers },
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: socket.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });
  gateway.upstream.behave({ tokens: 8, delayMs: 10 });

  const health = await client.query(gql`{ health { database defaultModel } }`, {}).toPromise();
  expect(health.error).toBeUndefined();
  expect(health.data.health.defaultModel).toBe('fake-a');

  const sent = await client
    .mutation(gql`mutation ($input: SendMessageInput!) { sendMessage(input: $input) { replies { id status } } }`, { input: { content: 'Hello from urql' } })
    .toPromise();
  expect(sent.error).toBeUndefined();
  const messageId = sent.data.sendMessage.replies[0].id;

  const events: any[] = [];
  await new Promise<void>((resolve, reject) => {
    const { unsubscribe } = pipe(
      client.subscription(
        gql`subscription ($id: ID!) { messageStream(messageId: $id) { __typename seq ... on TokenDelta { delta } ... on MessageFinished { message { content status } } } }`,
        { id: messageId },
      ),
      subscribe((result) => {
        if (result.error) return reject(result.error);
        events.push(result.data.messageStream);
        if (result.data.messageStream.__typename === 'MessageFinished') {
          unsubscribe();
          resolve();
        }
      }),
    );
  });
  expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
  const finished = events.at(-1);
  expect(finished.message.status).toBe('COMPLETE');
  expect(
    events
      .filter((event) => event.__typename === 'TokenDelta')
      .map((event) => event.delta)
      .join(''),
  ).toBe(finished.message.content);
  await socket.dispose();
});

test('urql with default options sends its queries as GET, and they pass without a preflight header', async () => {
  const sent: Array<{ method: string; headers: Headers }> = [];
  const client = new Client({
    url: `${gateway.url}/graphql`,
    fetchOptions: { headers: { 'x-device-id': `urql-get-${Date.now()}` } },
    fetch: (input, init) => {
      sent.push({ method: init?.method ?? 'GET', headers: new Headers(init?.headers) });
      return fetch(input, init);
    },
    exchanges: [cacheExchange, fetchExchange],
  });
  const result = await client.query(gql`{ health { database } }`, {}).toPromise();
  expect(result.error).toBeUndefined();
  expect(['pglite', 'postgresql']).toContain(result.data.health.database);
  expect(sent).toHaveLength(1);
  expect(sent[0]!.method).toBe('GET');
  expect(sent[0]!.headers.has('graphql-require-preflight')).toBe(false);
});

test('a mutation over GET is refused, cookie or not', async () => {
  const query = encodeURIComponent('mutation { deleteConversation(id: "x") }');
  const response = await fetch(`${gateway.url}/graphql?query=${query}`, { headers: { 'x-device-id': `urql-get-mutation-${Date.now()}` } });
  expect(response.status).toBe(405);
});
