import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { codeOf, eventually, PRO_MODEL, startGateway, type Gateway } from '../support/harness.js';
import { CHAT, SEND_MESSAGE } from '../support/operations.js';

const VIEWER = /* GraphQL */ `
  query Viewer { viewer { isGuest tier credits user { id email } actingUser { email } limits { perMinute perDay usedThisMinute usedToday freeMessagesLeft } } }
`;
const MODEL_AVAILABLE = /* GraphQL */ `query ($id: ID!) { node(id: $id) { ... on Model { id minTier available } } }`;
const FEATURES = /* GraphQL */ `query { availableFeatures { name enabled } }`;

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({ freeMessageThreshold: 3 });
});
afterAll(() => gateway?.close());

describe('tiers', () => {
  test('a model above your tier is MODEL_NOT_ALLOWED, and Model.available agrees', async () => {
    const free = await gateway.user({ tier: 'FREE' });
    const pro = await gateway.user({ tier: 'PRO' });
    const refused = await free.execute(SEND_MESSAGE, { input: { content: 'hi', models: [PRO_MODEL] } });
    expect(refused.status).toBe(403);
    expect(codeOf(refused)).toBe('MODEL_NOT_ALLOWED');
    expect(refused.errors![0]!.extensions!.requiredTier).toBe('PRO');
    expect((await free.execute(MODEL_AVAILABLE, { id: PRO_MODEL })).data.node.available).toBe(false);
    expect((await pro.execute(MODEL_AVAILABLE, { id: PRO_MODEL })).data.node.available).toBe(true);
    expect((await pro.execute(CHAT, { input: { content: 'hi', models: [PRO_MODEL] } })).data.chat.replies[0].status).toBe('COMPLETE');
  });

  test('features follow the tier; more than two models side by side needs multi_agent', async () => {
    const free = await gateway.user({ tier: 'FREE' });
    const pro = await gateway.user({ tier: 'PRO' });
    const enabled = async (caller: typeof free) =>
      (await caller.execute(FEATURES)).data.availableFeatures.filter((feature: any) => feature.enabled).map((feature: any) => feature.name);
    expect(await enabled(free)).not.toContain('multi_agent');
    expect(await enabled(pro)).toContain('multi_agent');
    const three = { input: { content: 'three of you', models: ['fake-a', 'fake-b', 'fake-c'] } };
    expect(codeOf(await free.execute(SEND_MESSAGE, three))).toBe('BAD_USER_INPUT');
    expect((await pro.execute(SEND_MESSAGE, three)).data.sendMessage.replies).toHaveLength(3);
  });
});

describe('guests', () => {
  test('a guest device may send 20 chat requests a minute, then gets 429 with Retry-After', async () => {
    const guest = gateway.guest();
    const gatewayWithoutAllowance = gateway.app.services.config;
    expect(gatewayWithoutAllowance.guestPerMinute).toBe(20);
    const results = [];
    for (let index = 0; index < 21; index += 1) {
      results.push(await guest.execute(SEND_MESSAGE, { input: { content: `message ${index}`, models: ['fake-a'] } }));
    }
    const limited = results.at(-1)!;
    // The first three pass the free allowance of this server; the rest are refused by it, and the 21st by the rate limit.
    expect(results.slice(0, 3).every((result) => !result.errors)).toBe(true);
    expect(codeOf(results[3]!)).toBe('FREE_LIMIT_EXCEEDED');
    expect(limited.status).toBe(429);
    expect(codeOf(limited)).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.errors![0]!.extensions!.retryAfter).toBe(Number(limited.headers.get('retry-after')));
    const viewer = (await guest.execute(VIEWER)).data.viewer;
    expect(viewer.limits).toMatchObject({ perMinute: 20, usedThisMinute: 20, freeMessagesLeft: 0 });
  });

  test('after the free allowance a guest must sign up: FREE_LIMIT_EXCEEDED with requiresSignup', async () => {
    const guest = gateway.guest();
    for (let index = 0; index < 3; index += 1) {
      expect((await guest.execute(SEND_MESSAGE, { input: { content: `free ${index}` } })).errors).toBeUndefined();
    }
    const refused = await guest.execute(SEND_MESSAGE, { input: { content: 'one more' } });
    expect(refused.status).toBe(429);
    expect(codeOf(refused)).toBe('FREE_LIMIT_EXCEEDED');
    expect(refused.errors![0]!.extensions!.requiresSignup).toBe(true);
    expect(refused.errors![0]!.message).toContain('Sign up');
    // Nothing of the refused message was stored.
    const counts = await gateway.app.services.db.prisma.message.count({ where: { content: 'one more' } });
    expect(counts).toBe(0);
  });

  test('a FREE user has a per-minute limit of 10 and no sign-up prompt', async () => {
    const user = await gateway.user({ tier: 'FREE' });
    await gateway.app.services.db.prisma.user.update({ where: { id: user.id }, data: { freeMessagesUsed: -100 } });
    let last: Awaited<ReturnType<typeof user.execute>> | undefined;
    for (let index = 0; index < 11; index += 1) last = await user.execute(SEND_MESSAGE, { input: { content: `m${index}` } });
    expect(codeOf(last!)).toBe('RATE_LIMITED');
    expect(last!.errors![0]!.extensions!.limit).toBe(10);
  });
});

describe('credits', () => {
  const ledgerSum = async (userId: string) =>
    (await gateway.app.services.db.prisma.creditLedgerEntry.aggregate({ where: { userId }, _sum: { delta: true } }))._sum.delta ?? 0;
  const balanceOf = async (userId: string) => (await gateway.app.services.db.prisma.user.findUniqueOrThrow({ where: { id: userId } })).creditBalance;

  test('a reply reserves its worst case, then is charged its exact cost', async () => {
    const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    gateway.upstream.behave({ tokens: 10 });
    const reply = (await user.execute(CHAT, { input: { content: 'charge me' } })).data.chat.replies[0];
    const expected = Math.ceil(reply.usage.cost * 1_000_000 - 1e-9);
    expect(await balanceOf(user.id)).toBe(1_000_000 - expected);
    expect(await ledgerSum(user.id)).toBe(1_000_000 - expected);
    const kinds = (await gateway.app.services.db.prisma.creditLedgerEntry.findMany({ where: { userId: user.id }, orderBy: { createdAt: 'asc' } })).map(
      (entry) => entry.kind,
    );
    expect(kinds.slice(-2)).toEqual(['reserve', 'refund']);
    expect((await user.execute(VIEWER)).data.viewer.credits).toBe(1_000_000 - expected);
  });

  test('side-by-side replies each reserve their own share; if the balance cannot cover all of them, nothing is stored', async () => {
    const prisma = gateway.app.services.db.prisma;
    const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    gateway.upstream.behave({ tokens: 3, firstTokenDelayMs: 300 });
    const sent = await user.execute(SEND_MESSAGE, { input: { content: 'both of you', models: ['fake-a', 'fake-b'] } });
    expect(sent.errors).toBeUndefined();
    const reserves = await prisma.creditLedgerEntry.findMany({ where: { userId: user.id, kind: 'reserve' }, orderBy: { balanceAfter: 'desc' } });
    expect(reserves.map((entry) => entry.reference).sort()).toEqual(
      sent.data.sendMessage.replies.map((reply: any) => Buffer.from(reply.id, 'base64url').toString().split(':')[1]).sort(),
    );
    expect(reserves[0]!.balanceAfter).toBe(1_000_000 + reserves[0]!.delta);
    expect(reserves[1]!.balanceAfter).toBe(reserves[0]!.balanceAfter + reserves[1]!.delta);

    await eventually(async () => (await prisma.creditLedgerEntry.count({ where: { userId: user.id, kind: 'refund' } })) === 2);
    const oneReply = -reserves[0]!.delta;
    await gateway.app.services.admin.setCredits(user.id, oneReply + Math.floor(oneReply / 2));
    const conversationsBefore = await prisma.conversation.count({ where: { ownerId: user.id } });
    const refused = await user.execute(SEND_MESSAGE, { input: { content: 'both again', models: ['fake-a', 'fake-b'] } });
    expect(codeOf(refused)).toBe('INSUFFICIENT_CREDITS');
    // The error names the whole turn's reservation (both replies) and the balance it did not cover.
    expect(refused.errors![0]!.extensions!.balance).toBe(oneReply + Math.floor(oneReply / 2));
    expect(refused.errors![0]!.extensions!.required).toBeGreaterThan(oneReply + Math.floor(oneReply / 2));
    expect(await prisma.conversation.count({ where: { ownerId: user.id } })).toBe(conversationsBefore);
    expect(await balanceOf(user.id)).toBe(oneReply + Math.floor(oneReply / 2));
    expect(await ledgerSum(user.id)).toBe(await balanceOf(user.id));
  });

  test('a reply that fails before any token is not charged', async () => {
    const user = await gateway.user({ tier: 'PRO', credits: 500_000 });
    gateway.upstream.behave({ failStatus: 503 });
    const reply = (await user.execute(CHAT, { input: { content: 'fail' } })).data.chat.replies[0];
    expect(reply.status).toBe('FAILED');
    expect(await balanceOf(user.id)).toBe(500_000);
  });

  test('with credit for 5 calls, 50 concurrent calls let exactly 5 through and the ledger matches', async () => {
    const user = await gateway.user({ tier: 'ENTERPRISE', credits: 10_000_000 });
    gateway.upstream.behave({ tokens: 3 });
    await user.execute(CHAT, { input: { content: 'same question' } });
    const [reservation] = await gateway.app.services.db.prisma.creditLedgerEntry.findMany({ where: { userId: user.id, kind: 'reserve' } });
    const perCall = -reservation!.delta;
    await gateway.app.services.admin.setCredits(user.id, perCall * 5 + Math.floor(perCall / 2));

    // Replies wait before their first token, so no refund lands while the 50 race (which can take over two seconds
    // on a busy machine: with a shorter wait the first replies' refunds paid for later ones).
    gateway.upstream.behave({ tokens: 3, firstTokenDelayMs: 5_000 });
    const results = await Promise.all(Array.from({ length: 50 }, () => user.execute(SEND_MESSAGE, { input: { content: 'same question' } })));
    const succeeded = results.filter((result) => !result.errors);
    const refused = results.filter((result) => codeOf(result) === 'INSUFFICIENT_CREDITS');
    expect(succeeded).toHaveLength(5);
    expect(refused).toHaveLength(45);
    expect(refused[0]!.status).toBe(402);
    expect(await balanceOf(user.id)).toBeGreaterThanOrEqual(0);

    // A reply's refund lands just after its row is marked finished: wait for all six (the first call's and the five).
    await eventually(async () => (await gateway.app.services.db.prisma.creditLedgerEntry.count({ where: { userId: user.id, kind: 'refund' } })) === 6, 15_000);
    const balance = await balanceOf(user.id);
    expect(balance).toBeGreaterThanOrEqual(0);
    expect(await ledgerSum(user.id)).toBe(balance);
    const entries = await gateway.app.services.db.prisma.creditLedgerEntry.findMany({ where: { userId: user.id } });
    expect(entries.every((entry) => entry.balanceAfter >= 0)).toBe(true);
  });

  test('a turn refused after its provider call started leaves nothing behind, and the call is cancelled', async () => {
    const prisma = gateway.app.services.db.prisma;
    const user = await gateway.user({ tier: 'ENTERPRISE', credits: 10_000_000 });
    await gateway.app.services.admin.setCredits(user.id, 0);
    // The balance this request read when it began still covered the turn (concurrent requests spent it since),
    // so the provider is called while the turn is stored, and the debit then refuses it.
    const actor = {
      userId: user.id,
      billedUserId: user.id,
      tier: 'ENTERPRISE' as const,
      isGuest: false,
      billingSeen: { creditBalance: 10_000_000, freeMessagesUsed: 0 },
    };
    gateway.upstream.reset();
    gateway.upstream.behave({ tokens: 3, firstTokenDelayMs: 3_000 });

    await expect(gateway.app.services.chat.send(actor, { content: 'a stale balance' })).rejects.toMatchObject({ code: 'INSUFFICIENT_CREDITS' });
    expect(gateway.upstream.requests).toHaveLength(1);
    // Cancelled while the provider was still working on its first token.
    await eventually(() => gateway.upstream.openStreams() === 0, 2_500);
    expect(await prisma.conversation.count({ where: { ownerId: user.id } })).toBe(0);
    expect(await prisma.creditLedgerEntry.count({ where: { userId: user.id, kind: { in: ['reserve', 'refund'] } } })).toBe(0);
    expect(await prisma.usageEvent.count({ where: { billedUserId: user.id } })).toBe(0);
    expect(await balanceOf(user.id)).toBe(0);
  });
});
