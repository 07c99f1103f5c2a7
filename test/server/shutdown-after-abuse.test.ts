import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { execute as post, exited, startServerProcess } from '../support/processes.js';
import { SEND_MESSAGE } from '../support/operations.js';

// After abusive traffic, SIGTERM still ends the process within the grace
// period plus a small bound, whatever the abusers leave open.
let upstream: FakeUpstream;
let directory: string;
const leftovers: Array<Socket | WebSocket> = [];

beforeAll(async () => {
  upstream = await startFakeUpstream();
  directory = await mkdtemp(path.join(tmpdir(), 'gateway-abuse-'));
  await writeFile(
    path.join(directory, 'providers.json'),
    JSON.stringify({ providers: [{ id: 'fake', baseURL: upstream.url, apiKey: 'test', models: [{ id: 'fake-a' }] }] }),
  );
});
afterAll(async () => {
  for (const leftover of leftovers) leftover instanceof WebSocket ? leftover.terminate() : leftover.destroy();
  await upstream?.close();
  if (directory) await rm(directory, { recursive: true, force: true });
});

const rawSocket = (url: string, send: string) =>
  new Promise<Socket>((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname, () => {
      if (send) socket.write(send);
      resolve(socket);
    });
    socket.on('error', () => {});
    // Never read: the server's writes pile up in its buffers, as with a client that stopped reading.
    socket.pause();
    leftovers.push(socket);
  });

test('SIGTERM after abusive traffic exits within the grace period plus the bound', async () => {
  const server = await startServerProcess({
    DATA_DIR: path.join(directory, 'data'),
    PROVIDERS_FILE: path.join(directory, 'providers.json'),
    NODE_ENV: 'production',
    SHUTDOWN_GRACE_MS: '1000',
    SHUTDOWN_FORCE_AFTER_MS: '3000',
  });
  upstream.behave({ tokens: 100_000, delayMs: 5 });
  const { host } = new URL(server.url);
  const requests: Array<Promise<Socket>> = [];
  for (let index = 0; index < 20; index += 1) {
    // Half a request line, half the headers, a body that never finishes.
    requests.push(rawSocket(server.url, ''));
    requests.push(rawSocket(server.url, `POST /graphql HTTP/1.1\r\nHost: ${host}\r\n`));
    requests.push(
      rawSocket(server.url, `POST /graphql HTTP/1.1\r\nHost: ${host}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"query":`),
    );
  }
  await Promise.all(requests);
  // WebSockets that never initialise, and one following a reply it never reads.
  for (let index = 0; index < 10; index += 1) {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    socket.on('error', () => {});
    leftovers.push(socket);
  }
  const guest = { 'x-device-id': `device-${randomUUID()}` };
  const sent = (await post(server.url, guest, SEND_MESSAGE, { input: { content: 'an endless answer' } })).data;
  const follower = new WebSocket(`${server.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  follower.on('error', () => {});
  leftovers.push(follower);
  await new Promise((resolve) => follower.once('open', resolve));
  follower.send(JSON.stringify({ type: 'connection_init', payload: guest }));
  follower.send(
    JSON.stringify({
      id: '1',
      type: 'subscribe',
      payload: { query: 'subscription ($id: ID!) { messageStream(messageId: $id) { seq } }', variables: { id: sent.sendMessage.replies[0].id } },
    }),
  );
  (follower as unknown as { _socket: Socket })._socket.pause();

  const exit = exited(server.child);
  server.child.kill('SIGTERM');
  // The test's own time limit is the bound: the process must exit by itself, well before it.
  // It exits cleanly: nothing was left for the forced exit after the grace period.
  expect(await exit).toBe(0);
  expect(server.output()).not.toContain('did not finish in time');
  expect(server.output()).not.toContain('shutdown failed');
}, 30_000);
