import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import WebSocket from 'ws';
import { type Gateway, startGateway } from '../support/harness.js';
import { MESSAGE_STREAM, SEND_MESSAGE } from '../support/operations.js';

// One socket carries many operations: a document refused by a limit is an
// error for that operation only, and a credential revoked while the socket is
// open closes it with 4401, as on connect.
let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

function socketOf(headers: Record<string, string>) {
  let closed: { code: number; reason: string } | undefined;
  const client = createClient({
    url: `${gateway.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: headers,
    retryAttempts: 0,
    on: { closed: (event) => (closed = { code: (event as CloseEvent).code, reason: (event as CloseEvent).reason }) },
  });
  const run = (query: string, variables: Record<string, unknown> = {}) =>
    new Promise<{ data: unknown[]; errors: any[] }>((resolve) => {
      const data: unknown[] = [];
      client.subscribe(
        { query, variables },
        {
          next: (value) => data.push(value.data),
          error: (error) => resolve({ data, errors: Array.isArray(error) ? error : [error] }),
          complete: () => resolve({ data, errors: [] }),
        },
      );
    });
  return { client, run, closed: () => closed };
}

const nest = (levels: number) => `{ viewer { user { ${'teams { owner { '.repeat(levels)} id ${'} } '.repeat(levels)} } } }`;
const fields =
  'id title createdAt updatedAt privacy messageCount lastMessage { id content role status createdAt model { id displayName vendor contextWindow } }';
const expensive = `{ ${Array.from({ length: 14 }, (_, index) => `c${index}: conversations(first: 50) { edges { node { ${fields} messages(first: 50) { edges { node { id content model { id displayName vendor } } } } } } }`).join(' ')} }`;
const aliases = (count: number) => `{ ${Array.from({ length: count }, (_, index) => `a${index}: health { database }`).join(' ')} }`;

test('a document over a depth, alias, directive or cost limit fails that operation only; the socket and its other subscriptions go on', async () => {
  const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
  gateway.upstream.behave({ tokens: 40, delayMs: 15 });
  const sent = await user.execute(SEND_MESSAGE, { input: { content: 'keep streaming' } });
  const socket = socketOf(user.headers);
  const following = socket.run(MESSAGE_STREAM, { messageId: sent.data.sendMessage.replies[0].id });

  const refused = [nest(5), aliases(16), `{ health ${Array.from({ length: 51 }, () => '@include(if: true)').join(' ')} { database } }`, expensive];
  for (const document of refused) {
    const result = await socket.run(document);
    expect(result.errors[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
  }
  expect(socket.closed()).toBeUndefined();
  const followed = await following;
  expect(followed.errors).toEqual([]);
  expect((followed.data.at(-1) as any).messageStream.__typename).toBe('MessageFinished');
  expect((await socket.run('{ health { database } }')).errors).toEqual([]);
  await socket.client.dispose();
});

test('a key revoked while its socket is open: the next operation closes the socket with 4401', async () => {
  const owner = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
  const key = await gateway.app.services.admin.createApiKey(owner.id, { name: 'to revoke' });
  const socket = socketOf({ authorization: `Bearer ${key.secret}` });
  expect((await socket.run('{ viewer { user { id } } }')).errors).toEqual([]);
  await gateway.app.services.db.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
  await socket.run('{ viewer { user { id } } }');
  await expect.poll(() => socket.closed()?.code).toBe(4401);
  await socket.client.dispose();
});
