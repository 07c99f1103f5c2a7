import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { eventually } from '../support/harness.js';
import { execute as post, exited, startServerProcess } from '../support/processes.js';
import { MESSAGE, MESSAGE_STREAM, SEND_MESSAGE } from '../support/operations.js';

// The real entry point (`npm start`) in a child process: migrations on start,
// SIGTERM handling, and data that outlives the process. Each test starts two
// processes (tsx compiles on start), hence the longer timeouts.
let upstream: FakeUpstream;
let directory: string;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  directory = await mkdtemp(path.join(tmpdir(), 'gateway-shutdown-'));
  await writeFile(
    path.join(directory, 'providers.json'),
    JSON.stringify({ providers: [{ id: 'fake', baseURL: upstream.url, apiKey: 'test', models: [{ id: 'fake-a' }] }] }),
  );
});
afterAll(async () => {
  await upstream?.close();
  if (directory) await rm(directory, { recursive: true, force: true });
});

const startServer = (extraEnv: Record<string, string>) =>
  startServerProcess({ DATA_DIR: path.join(directory, 'data'), PROVIDERS_FILE: path.join(directory, 'providers.json'), ...extraEnv });

const device = (deviceId: string) => ({ 'x-device-id': deviceId });

test('SIGTERM stores running replies as STOPPED, tells subscribers, and exits cleanly', async () => {
  const deviceId = `device-${randomUUID()}`;
  const server = await startServer({ SHUTDOWN_GRACE_MS: '0' });
  upstream.behave({ tokens: 500, delayMs: 20 });
  const sent = (await post(server.url, device(deviceId), SEND_MESSAGE, { input: { content: 'a very long answer' } })).data;
  const messageId = sent.sendMessage.replies[0].id;

  const client = createClient({
    url: `${server.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { 'x-device-id': deviceId },
    retryAttempts: 0,
  });
  const events: any[] = [];
  const finished = new Promise<void>((resolve) => {
    client.subscribe(
      { query: MESSAGE_STREAM, variables: { messageId } },
      { next: (value) => events.push(value.data!.messageStream), error: () => resolve(), complete: () => resolve() },
    );
  });
  await eventually(() => events.length >= 3);

  const exit = exited(server.child);
  server.child.kill('SIGTERM');
  await finished;
  expect(await exit).toBe(0);
  expect(events.at(-1).__typename).toBe('MessageFinished');
  expect(events.at(-1).message.status).toBe('STOPPED');
  await client.dispose();

  // The same data directory, a new process: the reply stayed STOPPED with its text.
  const restarted = await startServer({});
  const stored = (await post(restarted.url, device(deviceId), MESSAGE, { id: messageId })).data;
  expect(stored.node.status).toBe('STOPPED');
  expect(stored.node.content).toBe(
    events
      .filter((event) => event.__typename === 'TokenDelta')
      .map((event) => event.delta)
      .join(''),
  );
  expect(stored.node.content.length).toBeGreaterThan(0);
  const restartedExit = exited(restarted.child);
  restarted.child.kill('SIGTERM');
  expect(await restartedExit).toBe(0);
}, 90_000);

test('within the grace period, a running reply is allowed to finish', async () => {
  const deviceId = `device-${randomUUID()}`;
  const server = await startServer({ SHUTDOWN_GRACE_MS: '10000' });
  upstream.behave({ tokens: 20, delayMs: 25 });
  const sent = (await post(server.url, device(deviceId), SEND_MESSAGE, { input: { content: 'short answer' } })).data;
  const messageId = sent.sendMessage.replies[0].id;
  // The provider is streaming this reply (other tests' streams may still be closing).
  await eventually(() => upstream.requests.some((request) => JSON.stringify(request.body?.messages ?? []).includes('short answer')), 15_000);
  const exit = exited(server.child);
  server.child.kill('SIGTERM');
  expect(await exit).toBe(0);

  const restarted = await startServer({});
  const stored = (await post(restarted.url, device(deviceId), MESSAGE, { id: messageId })).data;
  expect(stored.node.status).toBe('COMPLETE');
  expect(stored.node.content).toContain('tok20');
  const restartedExit = exited(restarted.child);
  restarted.child.kill('SIGTERM');
  await restartedExit;
}, 90_000);
