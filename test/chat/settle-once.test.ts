import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dropSchema } from '../../src/lib/db.js';
import { eventually, type Gateway, startGateway } from '../support/harness.js';
import { DELETE_CONVERSATION, SEND_MESSAGE, STOP_GENERATION } from '../support/operations.js';

// Two instances on one PostgreSQL schema. A reply is ended exactly once: by
// its runner, or by another instance that takes it for dead, never both, and
// only whoever ended it refunds, records usage and announces it.
const databaseUrl = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';

const ledger = (gateway: Gateway, reference: string) =>
  gateway.app.services.db.prisma.creditLedgerEntry.findMany({ where: { reference }, orderBy: { createdAt: 'asc' } });
const usageRows = (gateway: Gateway, messageId: string) => gateway.app.services.db.prisma.usageEvent.count({ where: { messageId } });
const row = (gateway: Gateway, messageId: string) => gateway.app.services.db.prisma.message.findUniqueOrThrow({ where: { id: messageId } });
const balanceOf = async (gateway: Gateway, userId: string) =>
  (await gateway.app.services.db.prisma.user.findUniqueOrThrow({ where: { id: userId } })).creditBalance;

/** Starts gateways on one fresh PostgreSQL schema (and, with Redis, one key prefix); all are closed and the schema dropped after the describe. */
function onOneSchema(options: { redis: boolean }) {
  const shared = {
    databaseUrl,
    databaseSchema: `settle_${randomBytes(6).toString('hex')}`,
    ...(options.redis ? { redisUrl, redisPrefix: `gateway-test-${randomBytes(6).toString('hex')}` } : {}),
  };
  const started: Gateway[] = [];
  afterAll(async () => {
    for (const gateway of started.reverse()) await gateway.close();
    await dropSchema(databaseUrl, shared.databaseSchema);
  });
  return async (overrides: Parameters<typeof startGateway>[0] = {}) => {
    const gateway = await startGateway({ ...shared, ...overrides });
    started.push(gateway);
    return gateway;
  };
}

/** A new user's reply running on `gateway`, with its GraphQL id and its row id. */
async function runningReply(gateway: Gateway, behaviour: Parameters<Gateway['upstream']['behave']>[0], content: string) {
  const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
  gateway.upstream.behave(behaviour);
  const sent = await user.execute(SEND_MESSAGE, { input: { content } });
  const messageId = (await gateway.app.services.db.prisma.message.findFirstOrThrow({ where: { role: 'ASSISTANT', conversation: { ownerId: user.id } } })).id;
  return { user, replyId: sent.data.sendMessage.replies[0].id as string, conversationId: sent.data.sendMessage.conversation.id as string, messageId };
}

describe('without Redis: a reply left streaming by a previous run', () => {
  const start = onOneSchema({ redis: false });
  let a: Gateway;
  beforeAll(async () => {
    a = await start({ orphanTimeoutMs: 600_000 });
  });

  test('is failed, refunded and recorded when the next run starts, and its old runner cannot settle it again', async () => {
    const { user, replyId, messageId } = await runningReply(a, { tokens: 50, stallAfter: 4 }, 'take your time');
    await eventually(async () => (await row(a, messageId)).content.length > 0);

    // The next run on the same database finds the reply unfinished and takes it for dead.
    const b = await start();
    // Its metrics count the reply it ended, as they count the replies it runs.
    const replies = await b.app.services.metrics.registry.getSingleMetric('gateway_replies_total')!.get();
    expect(replies.values.filter((sample) => sample.labels.status === 'FAILED').map((sample) => sample.value)).toEqual([1]);
    const failed = await row(b, messageId);
    expect(failed).toMatchObject({ status: 'FAILED', errorCode: 'INTERRUPTED' });
    expect((await ledger(b, messageId)).map((entry) => entry.kind)).toEqual(['reserve', 'refund']);
    expect(await usageRows(b, messageId)).toBe(1);
    const balanceAfterRecovery = await balanceOf(b, user.id);
    expect(balanceAfterRecovery).toBeLessThan(1_000_000);

    // The old runner is still streaming; when it ends, its final write finds the row ended and settles nothing.
    const stopped = await user.execute(STOP_GENERATION, { messageId: replyId });
    expect(stopped.errors).toBeUndefined();
    expect((await row(a, messageId)).status).toBe('FAILED');
    expect((await ledger(a, messageId)).map((entry) => entry.kind)).toEqual(['reserve', 'refund']);
    expect(await usageRows(a, messageId)).toBe(1);
    expect(await balanceOf(a, user.id)).toBe(balanceAfterRecovery);
  });
});

describe('with Redis: two live instances', () => {
  const start = onOneSchema({ redis: true });
  let a: Gateway;
  let b: Gateway;
  beforeAll(async () => {
    a = await start();
    b = await start();
  });

  test('deleting a conversation through one instance stops its reply running on the other', async () => {
    const { user, conversationId, messageId } = await runningReply(a, { tokens: 500, delayMs: 20 }, 'a long one');
    await eventually(() => a.upstream.openStreams() === 1);
    expect(a.app.services.chat.runningCount()).toBe(1);

    const viaB = await fetch(`${b.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...user.headers },
      body: JSON.stringify({ query: DELETE_CONVERSATION, variables: { id: conversationId } }),
    });
    expect(((await viaB.json()) as any).errors).toBeUndefined();
    await eventually(() => a.app.services.chat.runningCount() === 0);
    expect(a.upstream.openStreams()).toBe(0);
    // The reply was stopped and settled before its conversation went: one refund, one usage row.
    expect((await ledger(a, messageId)).map((entry) => entry.kind)).toEqual(['reserve', 'refund']);
    expect(await usageRows(a, messageId)).toBe(1);
  });
});

describe('with Redis: an instance whose heartbeat lapsed', () => {
  const start = onOneSchema({ redis: true });
  let a: Gateway;
  beforeAll(async () => {
    // A vouches for its replies far too rarely; B takes a reply nobody vouched for in 300 ms for dead.
    a = await start({ orphanTimeoutMs: 600_000 });
    await start({ orphanTimeoutMs: 300 });
  });

  test('has its reply ended by another instance once; its own final write then settles nothing', async () => {
    const { user, replyId, messageId } = await runningReply(a, { tokens: 50, stallAfter: 4 }, 'still there?');
    await eventually(async () => (await row(a, messageId)).status === 'FAILED');
    await eventually(async () => (await ledger(a, messageId)).length === 2);
    expect((await ledger(a, messageId)).map((entry) => entry.kind)).toEqual(['reserve', 'refund']);
    const balanceAfterSweep = await balanceOf(a, user.id);

    // A still runs it; stopping it there ends the stream, but the row is already ended.
    expect(a.app.services.chat.runningCount()).toBe(1);
    await user.execute(STOP_GENERATION, { messageId: replyId });
    await eventually(() => a.app.services.chat.runningCount() === 0);
    expect((await row(a, messageId)).status).toBe('FAILED');
    expect((await ledger(a, messageId)).map((entry) => entry.kind)).toEqual(['reserve', 'refund']);
    expect(await usageRows(a, messageId)).toBe(1);
    expect(await balanceOf(a, user.id)).toBe(balanceAfterSweep);
  });
});
