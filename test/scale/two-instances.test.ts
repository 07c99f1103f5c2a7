import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dropSchema } from '../../src/lib/db.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { eventually } from '../support/harness.js';
import { MESSAGE, MESSAGE_STREAM, SEND_MESSAGE, STOP_GENERATION } from '../support/operations.js';
import { execute, follow, startServerProcess, wsClient, type ServerProcess } from '../support/processes.js';
import { startS3Server, type S3Server } from '../support/s3-server.js';

// Two gateway processes behind an imaginary load balancer, sharing one
// PostgreSQL schema, one Redis and one bucket: whichever instance a client
// reaches, it sees the same streams, limits and files.
const databaseUrl = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const schema = `scale_${randomBytes(6).toString('hex')}`;
const redisPrefix = `gateway-test-${randomBytes(6).toString('hex')}`;
const GUEST_LIMIT = 6;
const ORPHAN_TIMEOUT_MS = 3_000;

let upstream: FakeUpstream;
let s3: S3Server;
let directory: string;
let a: ServerProcess;
let b: ServerProcess;

const joined = (events: any[]) =>
  events
    .filter((event) => event.__typename === 'TokenDelta')
    .map((event) => event.delta)
    .join('');
const seqs = (events: any[]) => events.map((event) => event.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);
/** Each seq once and in order; a follower that fell behind may get several tokens as one delta, so seqs can skip. */
const inOrderOnce = (seqs: number[]) => seqs.every((seq, index) => index === 0 || seq > seqs[index - 1]!);
const guest = () => ({ 'x-device-id': `device-${randomUUID()}` });

async function send(server: ServerProcess, headers: Record<string, string>, input: Record<string, unknown>) {
  const result = await execute(server.url, headers, SEND_MESSAGE, { input });
  if (!result.data) throw new Error(JSON.stringify(result.errors));
  return result.data.sendMessage.replies[0].id as string;
}

async function stored(server: ServerProcess, headers: Record<string, string>, messageId: string) {
  return (await execute(server.url, headers, MESSAGE, { id: messageId })).data.node;
}

beforeAll(async () => {
  upstream = await startFakeUpstream();
  s3 = await startS3Server();
  directory = await mkdtemp(path.join(tmpdir(), 'gateway-scale-'));
  const providersFile = path.join(directory, 'providers.json');
  await writeFile(
    providersFile,
    JSON.stringify({ providers: [{ id: 'fake', baseURL: upstream.url, apiKey: 'test', models: [{ id: 'fake-a', inputPrice: 1, outputPrice: 2 }] }] }),
  );
  const env = {
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: schema,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: redisPrefix,
    PROVIDERS_FILE: providersFile,
    GUEST_RATE_LIMIT_PER_MINUTE: String(GUEST_LIMIT),
    ORPHAN_TIMEOUT_MS: String(ORPHAN_TIMEOUT_MS),
    FILES_BUCKET: s3.bucket,
    S3_ENDPOINT: s3.endpoint,
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
  // Both start at once: the migration lock lets exactly one of them migrate.
  [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await upstream?.close();
  await s3?.close();
  await dropSchema(databaseUrl, schema);
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${redisPrefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  if (directory) await rm(directory, { recursive: true, force: true });
}, 60_000);

describe('two instances sharing PostgreSQL, Redis and a bucket', () => {
  test('both report Redis and PostgreSQL, and exactly one applied the migrations', async () => {
    for (const server of [a, b]) {
      const health = await execute(server.url, guest(), '{ health { database pubsub } }');
      expect(health.data.health).toEqual({ database: 'postgresql', pubsub: 'redis' });
    }
    const applied = [a, b].map((server) => (server.output().match(/applied migration/g) ?? []).length);
    expect(applied.sort()).toEqual([0, expect.any(Number)]);
    expect(applied[1]).toBeGreaterThan(0);
  });

  test('a reply running on A streams to a follower on B exactly as it is stored', async () => {
    const headers = guest();
    upstream.behave({ tokens: 60, delayMs: 5 });
    const messageId = await send(a, headers, { content: 'stream me across instances' });
    const client = wsClient(b.url, headers);
    const events = await follow(client, MESSAGE_STREAM, { messageId }, 'messageStream').done;
    await client.dispose();

    expect(inOrderOnce(seqs(events))).toBe(true);
    expect(events.at(-1).message.status).toBe('COMPLETE');
    expect(joined(events)).toBe((await stored(b, headers, messageId)).content);
    expect(joined(events)).toContain('tok60');
  });

  test('a follower dropped on B resumes on A with `after`: nothing lost, nothing repeated', async () => {
    const headers = guest();
    upstream.behave({ tokens: 120, delayMs: 10 });
    const messageId = await send(a, headers, { content: 'a long one' });
    const onB = wsClient(b.url, headers);
    const first = follow(onB, MESSAGE_STREAM, { messageId }, 'messageStream');
    await eventually(() => first.events.length >= 20);
    await onB.dispose(); // the tab closes, the socket drops mid-stream
    const received = [...first.events];
    const lastSeq = received.at(-1).seq;

    const onA = wsClient(a.url, headers);
    const rest = await follow(onA, MESSAGE_STREAM, { messageId, after: lastSeq }, 'messageStream').done;
    await onA.dispose();

    const all = [...received, ...rest];
    expect(inOrderOnce(seqs(all))).toBe(true);
    expect(all.at(-1).message.status).toBe('COMPLETE');
    expect(joined(all)).toBe((await stored(a, headers, messageId)).content);
  });

  test('stopGeneration sent to B stops the reply running on A', async () => {
    const headers = guest();
    upstream.behave({ tokens: 2_000, delayMs: 10 });
    const messageId = await send(a, headers, { content: 'never ending' });
    const onA = wsClient(a.url, headers);
    const following = follow(onA, MESSAGE_STREAM, { messageId }, 'messageStream');
    await eventually(() => following.events.length >= 5);

    const result = await execute(b.url, headers, STOP_GENERATION, { messageId });
    expect(result.errors).toBeUndefined();
    expect(result.data.stopGeneration[0].status).toBe('STOPPED');

    const events = await following.done;
    await onA.dispose();
    expect(events.at(-1).message.status).toBe('STOPPED');
    expect(joined(events)).toBe((await stored(b, headers, messageId)).content);
    await eventually(() => upstream.openStreams() === 0);
  });

  test(`a guest limit of ${GUEST_LIMIT} per minute, spread over both instances, lets exactly ${GUEST_LIMIT} through`, async () => {
    const headers = guest();
    upstream.behave({ tokens: 3 });
    const attempts = await Promise.all(
      range(1, GUEST_LIMIT * 2).map((index) => execute(index % 2 ? a.url : b.url, headers, SEND_MESSAGE, { input: { content: `attempt ${index}` } })),
    );
    const accepted = attempts.filter((attempt) => attempt.data?.sendMessage);
    const limited = attempts.filter((attempt) => attempt.errors?.[0]?.extensions?.code === 'RATE_LIMITED');
    expect(accepted).toHaveLength(GUEST_LIMIT);
    expect(limited).toHaveLength(GUEST_LIMIT);
  });

  test('a file uploaded on A is read by a chat on B', async () => {
    const headers = guest();
    upstream.behave({ reply: 'Noted.' });
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: 'mutation ($file: File!) { uploadFile(file: $file) { id filename } }', variables: { file: null } }));
    form.set('map', JSON.stringify({ 0: ['variables.file'] }));
    form.set('0', new File(['The launch code word is PERIWINKLE.'], 'notes.txt', { type: 'text/plain' }));
    const upload = await fetch(`${a.url}/graphql`, { method: 'POST', headers: { ...headers, 'graphql-require-preflight': '1' }, body: form });
    const uploaded = ((await upload.json()) as any).data.uploadFile;
    expect(uploaded.filename).toBe('notes.txt');
    expect(await s3.objectCount()).toBeGreaterThan(0);

    upstream.reset();
    upstream.behave({ reply: 'Noted.' });
    const chat = await execute(b.url, headers, 'mutation ($input: SendMessageInput!) { chat(input: $input) { replies { status content } } }', {
      input: { content: 'What is the code word?', fileIds: [uploaded.id] },
    });
    expect(chat.data.chat.replies[0]).toEqual({ status: 'COMPLETE', content: 'Noted.' });
    expect(JSON.stringify(upstream.requests.at(-1)!.body.messages)).toContain('PERIWINKLE');
  });

  // Last: it kills A.
  test('when A dies mid-stream, B fails the orphaned reply with its partial text and tells followers', async () => {
    const headers = guest();
    upstream.behave({ tokens: 5_000, delayMs: 10 });
    const messageId = await send(a, headers, { content: 'outlive me' });
    const onB = wsClient(b.url, headers);
    const following = follow(onB, MESSAGE_STREAM, { messageId }, 'messageStream');
    await eventually(() => following.events.length >= 10);
    await a.kill();

    const events = await following.done;
    await onB.dispose();
    const finished = events.at(-1);
    expect(finished.__typename).toBe('MessageFinished');
    expect(finished.message).toMatchObject({ status: 'FAILED', error: { code: 'INTERRUPTED' } });
    expect(inOrderOnce(seqs(events))).toBe(true);
    const row = await stored(b, headers, messageId);
    expect(row.status).toBe('FAILED');
    expect(row.content.length).toBeGreaterThan(0);
    expect(row.content).toBe(joined(events));
    // The interrupted call still shows in the caller's usage: failed, with the output it produced.
    const usage = await eventually(async () => {
      const stats = (
        await execute(b.url, headers, `{ usage { totalRequests successRate outputTokens recentActivity { model action success outputTokens inputTokens } } }`)
      ).data?.usage;
      return stats?.totalRequests > 0 ? stats : null;
    });
    expect(usage.recentActivity).toHaveLength(1);
    expect(usage.recentActivity[0]).toMatchObject({ model: 'fake-a', action: 'CHAT', success: false });
    expect(usage.recentActivity[0].outputTokens).toBeGreaterThan(0);
    expect(usage.recentActivity[0].inputTokens).toBeGreaterThan(0);
    expect(usage.successRate).toBe(0);
  }, 30_000);
});
