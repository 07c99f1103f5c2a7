import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import UploadHttpLink from 'apollo-upload-client/UploadHttpLink.mjs';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startGateway, type Gateway } from '../support/harness.js';

// Apollo Client as a frontend sets it up: HTTP for queries and mutations,
// graphql-ws for subscriptions, split by operation type, one normalized cache.
let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());

function apollo(deviceId: string, { uploads = false } = {}) {
  const headers = { 'x-device-id': deviceId };
  const socket = createClient({ url: `${gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: headers, retryAttempts: 0 });
  // Multipart uploads are "simple" requests for browsers, so the server wants the preflight header on them.
  const http = uploads
    ? new UploadHttpLink({ uri: `${gateway.url}/graphql`, headers: { ...headers, 'apollo-require-preflight': 'true' } })
    : new HttpLink({ uri: `${gateway.url}/graphql`, headers });
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    },
    new GraphQLWsLink(socket),
    http,
  );
  return { client: new ApolloClient({ link, cache: new InMemoryCache() }), socket };
}

const SEND = gql`
  mutation Send($input: SendMessageInput!) {
    sendMessage(input: $input) {
      conversation { id title }
      replies { id content status }
    }
  }
`;
const FOLLOW = gql`
  subscription Follow($id: ID!) {
    messageStream(messageId: $id) {
      __typename
      seq
      ... on TokenDelta { delta }
      ... on MessageFinished { message { id content status } }
    }
  }
`;

test('a query, a mutation and a subscription; the cache updates the reply by its global id', async () => {
  const { client, socket } = apollo(`apollo-${Date.now()}`);
  gateway.upstream.behave({ tokens: 12, delayMs: 10 });

  const models = await client.query({ query: gql`{ models(first: 3) { totalCount edges { node { id displayName } } } }` });
  expect((models.data as any).models.edges.length).toBeGreaterThan(0);

  const sent = await client.mutate({ mutation: SEND, variables: { input: { content: 'Hello from Apollo' } } });
  const reply = (sent.data as any).sendMessage.replies[0];
  expect(reply.status).toBe('STREAMING');
  const id = client.cache.identify({ __typename: 'Message', id: reply.id })!;
  const fragment = gql`fragment Reply on Message { content status }`;
  expect(client.cache.readFragment({ id, fragment })).toMatchObject({ status: 'STREAMING' });

  const events: any[] = [];
  await new Promise<void>((resolve, reject) => {
    client.subscribe({ query: FOLLOW, variables: { id: reply.id } }).subscribe({
      next: (result) => events.push((result.data as any).messageStream),
      error: reject,
      complete: resolve,
    });
  });
  const deltas = events
    .filter((event) => event.__typename === 'TokenDelta')
    .map((event) => event.delta)
    .join('');
  expect(events.at(-1).__typename).toBe('MessageFinished');
  expect(client.cache.readFragment({ id, fragment })).toEqual({ __typename: 'Message', content: deltas, status: 'COMPLETE' });
  await socket.dispose();
});

test('an upload through apollo-upload-client, with the preflight header the server requires', async () => {
  const { client, socket } = apollo(`apollo-upload-${Date.now()}`, { uploads: true });
  const file = new File(['Minutes: the launch moves to Friday.'], 'minutes.txt', { type: 'text/plain' });
  const uploaded = await client.mutate({
    mutation: gql`mutation Upload($file: File!) { uploadFile(file: $file) { id filename mimeType size } }`,
    variables: { file },
  });
  expect((uploaded.data as any).uploadFile).toMatchObject({ filename: 'minutes.txt', mimeType: 'text/plain', size: file.size });
  await socket.dispose();
});
