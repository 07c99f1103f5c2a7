import { createServer, type Server, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { codeOf, type Gateway, startGateway } from '../support/harness.js';
import { CHAT_STREAM, SEND_MESSAGE } from '../support/operations.js';

// A graphql-ws client that retries re-subscribes its operations after a dropped
// socket. With a clientMessageId the second subscribe replays the turn the
// first one made, instead of making and charging another.

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

const chats = () => gateway.upstream.requests.filter((request) => request.path.endsWith('/chat/completions'));
const prisma = () => gateway.app.services.db.prisma;
const conversationsOf = (userId: string) => prisma().conversation.count({ where: { ownerId: userId } });
const reservationsOf = (userId: string) => prisma().creditLedgerEntry.count({ where: { userId, kind: 'reserve' } });

/** A TCP proxy in front of the gateway whose connections can be cut, as a flaky network would. */
async function cuttableProxy(target: string): Promise<{ url: string; cut(): void; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('clientMessageId', () => {
  test('a graphql-ws client re-subscribing after a cut socket gets the same turn replayed, made and charged once', async () => {
    const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    gateway.upstream.behave({ tokens: 30, delayMs: 15 });
    const proxy = await cuttableProxy(gateway.url);
    let connections = 0;
    const client = createClient({
      url: proxy.url,
      webSocketImpl: WebSocket,
      connectionParams: user.headers,
      retryAttempts: 5,
      retryWait: () => new Promise((resolve) => setTimeout(resolve, 50)),
      shouldRetry: () => true,
      on: { connected: () => (connections += 1) },
    });
    const events: any[] = [];
    const finished = new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: CHAT_STREAM, variables: { input: { content: 'count for me', clientMessageId: 'turn-7f3a' } } },
        {
          next: ({ data }) => {
            events.push((data as any).chatStream);
            if (events.length === 5) proxy.cut();
          },
          error: reject,
          complete: resolve,
        },
      );
    });
    await finished;
    await client.dispose();
    await proxy.close();

    expect(connections).toBe(2);
    expect(chats()).toHaveLength(1);
    expect(await conversationsOf(user.id)).toBe(1);
    expect(await reservationsOf(user.id)).toBe(1);
    // The second subscription replays from the first event; a client keeps one copy per seq.
    const bySeq = new Map(events.map((event) => [event.seq, event]));
    const last = events.at(-1);
    expect(last.__typename).toBe('MessageFinished');
    expect([...bySeq.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: last.seq }, (_, index) => index + 1));
    const text = [...bySeq.values()]
      .filter((event) => event.__typename === 'TokenDelta')
      .map((event) => event.delta)
      .join('');
    expect(text).toBe(Array.from({ length: 30 }, (_, index) => `tok${index + 1} `).join(''));
    expect(last.message.content).toBe(text);
  });

  test('sendMessage with a key already used returns the stored turn; another caller’s same key is their own', async () => {
    const alice = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    const bob = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    const input = { content: 'hello once', clientMessageId: 'shared-key' };
    const first = await alice.execute(SEND_MESSAGE, { input });
    const again = await alice.execute(SEND_MESSAGE, { input });
    expect(first.errors).toBeUndefined();
    expect(again.data.sendMessage.conversation.id).toBe(first.data.sendMessage.conversation.id);
    expect(again.data.sendMessage.replies.map((reply: any) => reply.id)).toEqual(first.data.sendMessage.replies.map((reply: any) => reply.id));
    const bobs = await bob.execute(SEND_MESSAGE, { input });
    expect(bobs.data.sendMessage.conversation.id).not.toBe(first.data.sendMessage.conversation.id);
    expect(await conversationsOf(alice.id)).toBe(1);
    expect(await reservationsOf(alice.id)).toBe(1);
  });

  test('the same key sent twice at once makes one turn', async () => {
    const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    gateway.upstream.behave({ tokens: 3 });
    const input = { content: 'at once', clientMessageId: 'race-1' };
    const results = await Promise.all(Array.from({ length: 5 }, () => user.execute(SEND_MESSAGE, { input })));
    for (const result of results) expect(result.errors).toBeUndefined();
    expect(new Set(results.map((result) => result.data.sendMessage.replies[0].id)).size).toBe(1);
    expect(await conversationsOf(user.id)).toBe(1);
    expect(await reservationsOf(user.id)).toBe(1);
  });

  test('an empty or overlong key is BAD_USER_INPUT', async () => {
    const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    for (const clientMessageId of ['', 'k'.repeat(201)]) {
      const result = await user.execute(SEND_MESSAGE, { input: { content: 'hi', clientMessageId } });
      expect(codeOf(result)).toBe('BAD_USER_INPUT');
    }
    expect(await conversationsOf(user.id)).toBe(0);
  });
});
