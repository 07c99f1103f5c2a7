import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startGateway, type Gateway } from '../support/harness.js';

// The allow-list codegen writes for the operations the tests and the demo page use.
const listFile = path.resolve(import.meta.dirname, '../generated/persisted-documents.json');
let gateway: Gateway;
let documents: Record<string, string>;

beforeAll(async () => {
  documents = JSON.parse(await readFile(listFile, 'utf8'));
  gateway = await startGateway({ persistedOperationsFile: listFile, persistedOperationsOnly: true });
});
afterAll(() => gateway?.close());

const idOf = (name: string) => Object.entries(documents).find(([, text]) => new RegExp(`^(query|mutation|subscription) ${name}\\b`).test(text))![0];
const post = (body: object) =>
  fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-device-id': 'persisted' },
    body: JSON.stringify(body),
  }).then(async (response) => ({ status: response.status, body: (await response.json()) as any }));

test('the list holds every generated operation under its sha256', () => {
  expect(Object.keys(documents).length).toBeGreaterThan(10);
  for (const [hash, text] of Object.entries(documents)) expect(createHash('sha256').update(text).digest('hex')).toBe(hash);
});

test('listed operations run by id (documentId or Apollo persisted-query hash); anything else is refused', async () => {
  const byDocumentId = await post({ documentId: idOf('DemoModels') });
  expect(byDocumentId.body.errors).toBeUndefined();
  expect(byDocumentId.body.data.models.edges.length).toBeGreaterThan(0);
  const apolloStyle = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: idOf('DemoConversations') } } });
  expect(apolloStyle.body.data.conversations.edges).toEqual([]);

  const arbitrary = await post({ query: '{ health { database } }' });
  expect(arbitrary.body.errors[0].message).toBe('PersistedQueryOnly');
  const unknown = await post({ documentId: 'f'.repeat(64) });
  expect(unknown.body.errors[0].message).toBe('PersistedQueryNotFound');
});

test('subscriptions over graphql-ws follow the same list', async () => {
  const socket = createClient({
    url: `${gateway.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { 'x-device-id': 'persisted-ws' },
    retryAttempts: 0,
  });
  gateway.upstream.behave({ tokens: 5 });
  const sent = await post({ documentId: idOf('DemoSend'), variables: { input: { content: 'persisted hello' } } });
  const messageId = sent.body.data.sendMessage.replies[0].id;
  const outcome = (payload: object) =>
    new Promise<{ events: any[]; error?: unknown }>((resolve) => {
      const events: any[] = [];
      socket.subscribe(payload as never, {
        next: (value) => (value.errors ? resolve({ events, error: value.errors }) : events.push(value.data)),
        error: (error) => resolve({ events, error }),
        complete: () => resolve({ events }),
      });
    });
  // A different device follows nothing of this one's; this device's own reply needs the same device id.
  const own = createClient({
    url: `${gateway.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { 'x-device-id': 'persisted' },
    retryAttempts: 0,
  });
  const followed = await new Promise<any[]>((resolve, reject) => {
    const events: any[] = [];
    own.subscribe({ query: '', documentId: idOf('DemoFollow'), variables: { id: messageId } } as never, {
      next: (value) => events.push(value.data),
      error: reject,
      complete: () => resolve(events),
    });
  });
  expect(followed.at(-1).messageStream.__typename).toBe('MessageFinished');
  const refused = await outcome({ query: 'subscription { conversationEvents(conversationId: "x") { seq } }' });
  expect(JSON.stringify(refused.error)).toContain('PersistedQueryOnly');
  await socket.dispose();
  await own.dispose();
});
