import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dropSchema } from '../../src/lib/db.js';
import { createViewerUpdates } from '../../src/modules/identity/viewer-updates.js';
import { eventually, type Gateway, startGateway } from '../support/harness.js';
import { SEND_MESSAGE } from '../support/operations.js';

const VIEWER_UPDATES = /* GraphQL */ `subscription { viewerUpdates { credits limits { usedThisMinute usedToday perMinute } } }`;

type Update = { viewerUpdates: { credits: number; limits: { usedThisMinute: number; usedToday: number } } };
const creditsOf = (events: Update[]) => events.map((event) => event.viewerUpdates.credits);
const balanceOf = async (gateway: Gateway, userId: string) =>
  (await gateway.app.services.db.prisma.user.findUniqueOrThrow({ where: { id: userId } })).creditBalance;

describe('one instance', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startGateway();
  });
  afterAll(() => gateway?.close());

  test('the balance now, then the reservation, the settlement and an operator grant as they happen', async () => {
    const alice = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    const updates = alice.subscribe<Update>(VIEWER_UPDATES);
    await eventually(() => updates.events.length >= 1);
    expect(updates.events[0]!.viewerUpdates).toMatchObject({ credits: 1_000_000, limits: { usedThisMinute: 0 } });

    const sent = await alice.execute(SEND_MESSAGE, { input: { content: 'count my credits' } });
    expect(sent.errors).toBeUndefined();
    await eventually(async () => (await gateway.app.services.db.prisma.creditLedgerEntry.count({ where: { userId: alice.id, kind: 'refund' } })) === 1);
    const settled = await balanceOf(gateway, alice.id);
    await eventually(() => creditsOf(updates.events).at(-1) === settled);
    const seen = creditsOf(updates.events);
    // The reservation took more than the reply used: some update showed the balance below where it settled.
    expect(Math.min(...seen)).toBeLessThan(settled);
    expect(settled).toBeLessThan(1_000_000);
    expect(updates.events.at(-1)!.viewerUpdates.limits).toMatchObject({ usedThisMinute: 1, usedToday: 1 });

    await gateway.app.services.admin.grantCredits(alice.id, 5_000);
    await eventually(() => creditsOf(updates.events).at(-1) === settled + 5_000);
    updates.cancel();
  });

  test('ending a follower while it waits for a change ends it at once', async () => {
    const alice = await gateway.user({ credits: 10 });
    const user = await gateway.app.services.db.prisma.user.findUniqueOrThrow({ where: { id: alice.id } });
    const follower = gateway.app.services.viewerUpdates.follow({ user, isGuest: false, tier: user.tier });
    expect((await follower.next()).value.user.creditBalance).toBe(10);
    const waiting = follower.next();
    const ended = await Promise.race([follower.return!().then(() => 'ended'), new Promise((resolve) => setTimeout(resolve, 1_000, 'still waiting'))]);
    expect(ended).toBe('ended');
    expect((await waiting).done).toBe(true);
  });

  test('a new rate-limit window is pushed without any other change', async () => {
    const alice = await gateway.user({ credits: 10 });
    const user = await gateway.app.services.db.prisma.user.findUniqueOrThrow({ where: { id: alice.id } });
    // A window that ends 100 ms from now, so the test need not wait out a real minute.
    const limits = { ...gateway.app.services.limits, minuteWindowEndsInMs: async () => 100 };
    const { prisma } = gateway.app.services.db;
    const follower = createViewerUpdates({ prisma, pubsub: gateway.app.services.pubsub, limits }).follow({ user, isGuest: false, tier: user.tier });
    await follower.next();
    const started = Date.now();
    const second = await follower.next();
    expect(second.done).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    await follower.return!();
  });

  test('a charge made inside a transaction is announced once it commits, never before', async () => {
    const alice = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    const { pubsub, credits, db } = gateway.app.services;
    const announced: string[] = [];
    const changes = pubsub.subscribe('viewer', alice.id);
    void (async () => {
      for await (const change of changes) announced.push(change.userId);
    })();
    await db.prisma.$transaction(async (transaction) => {
      await credits.reserve(transaction, alice.id, 10, `charge-${randomBytes(6).toString('hex')}`, 'charge');
      // In-process pubsub delivers at once: an announcement made by the reserve would be here by now.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(announced).toEqual([]);
    });
    // A service that charges inside a transaction announces after it (here a memory's charge).
    const created = await alice.execute('mutation { createMemory(content: "I like tea") { id } }');
    expect(created.errors).toBeUndefined();
    await eventually(() => announced.length === 1);
    await changes.return();
  });

  test("another user's changes are not pushed to you", async () => {
    const alice = await gateway.user({ credits: 100 });
    const bob = await gateway.user({ credits: 100 });
    const updates = alice.subscribe<Update>(VIEWER_UPDATES);
    await eventually(() => updates.events.length >= 1);
    await gateway.app.services.admin.grantCredits(bob.id, 7);
    await gateway.app.services.admin.grantCredits(alice.id, 1);
    await eventually(() => creditsOf(updates.events).at(-1) === 101);
    expect(creditsOf(updates.events)).toEqual([100, 101]);
    updates.cancel();
  });
});

describe('two instances sharing PostgreSQL and Redis', () => {
  const databaseUrl = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const shared = {
    databaseUrl,
    databaseSchema: `viewer_${randomBytes(6).toString('hex')}`,
    redisUrl: process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379',
    redisPrefix: `gateway-test-${randomBytes(6).toString('hex')}`,
  };
  let a: Gateway;
  let b: Gateway;
  beforeAll(async () => {
    a = await startGateway(shared);
    b = await startGateway(shared);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await dropSchema(databaseUrl, shared.databaseSchema);
  });

  test('a turn and a grant made through one instance reach a follower on the other', async () => {
    const alice = await a.user({ tier: 'PRO', credits: 1_000_000 });
    const updates = alice.subscribe<Update>(VIEWER_UPDATES);
    await eventually(() => updates.events.length >= 1);

    const onB = { ...alice, execute: (query: string, variables: Record<string, unknown>) => fetchOn(b, alice.headers, query, variables) };
    const sent = await onB.execute(SEND_MESSAGE, { input: { content: 'from the other side' } });
    expect(sent.errors).toBeUndefined();
    await eventually(async () => (await b.app.services.db.prisma.creditLedgerEntry.count({ where: { userId: alice.id, kind: 'refund' } })) === 1);
    const settled = await balanceOf(b, alice.id);
    await eventually(() => creditsOf(updates.events).at(-1) === settled, 10_000);

    await b.app.services.admin.grantCredits(alice.id, 42);
    await eventually(() => creditsOf(updates.events).at(-1) === settled + 42, 10_000);
    updates.cancel();
  });
});

async function fetchOn(gateway: Gateway, headers: Record<string, string>, query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: unknown[] };
}
