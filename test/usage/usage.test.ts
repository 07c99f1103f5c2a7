import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { codeOf, eventually, startGateway, type Gateway } from '../support/harness.js';
import { CHAT, CHAT_STREAM } from '../support/operations.js';

const USAGE = /* GraphQL */ `
  query ($userId: ID, $start: DateTime, $end: DateTime, $recentLimit: Int) {
    usage(userId: $userId, start: $start, end: $end, recentLimit: $recentLimit) {
      totalTokens inputTokens outputTokens totalCost totalRequests successRate
      models { model vendor requests tokens cost percentage }
      recentActivity { timestamp model action inputTokens outputTokens cost success latencyMs timeToFirstTokenMs }
    }
  }
`;

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

test('every call is recorded: totals, success rate, per-model shares and recent activity', async () => {
  const alice = await gateway.user({ tier: 'PRO' });
  gateway.upstream.behave({ tokens: 10 });
  await alice.execute(CHAT, { input: { content: 'one', models: ['fake-a', 'fake-b'] } });
  await alice.execute(CHAT, { input: { content: 'two', models: ['fake-a'] } });
  gateway.upstream.behave({ failStatus: 500 });
  await alice.execute(CHAT, { input: { content: 'three', models: ['fake-a'] } });

  const usage = (await alice.execute(USAGE, { recentLimit: 2 })).data.usage;
  expect(usage.totalRequests).toBe(4);
  expect(usage.successRate).toBe(75);
  expect(usage.outputTokens).toBe(30);
  expect(usage.totalTokens).toBe(usage.inputTokens + usage.outputTokens);
  expect(usage.models).toEqual([
    expect.objectContaining({ model: 'fake-a', vendor: 'Fake', requests: 3, percentage: 75 }),
    expect.objectContaining({ model: 'fake-b', vendor: 'Fake', requests: 1, percentage: 25 }),
  ]);
  expect(usage.totalCost).toBeCloseTo(
    usage.models.reduce((sum: number, model: any) => sum + model.cost, 0),
    8,
  );
  expect(usage.recentActivity).toHaveLength(2);
  expect(usage.recentActivity[0]).toMatchObject({ model: 'fake-a', action: 'CHAT', success: false, cost: 0 });
  expect(usage.recentActivity[1]).toMatchObject({ action: 'CHAT', success: true, outputTokens: 10 });
  expect(usage.recentActivity[1].timeToFirstTokenMs).toBeGreaterThanOrEqual(0);

  const nothingYet = (await alice.execute(USAGE, { end: '2000-01-01T00:00:00Z' })).data.usage;
  expect(nothingYet).toMatchObject({ totalRequests: 0, totalCost: 0, models: [] });
});

test('a streamed reply and a buffered reply of the same text cost the same', async () => {
  const alice = await gateway.user({ tier: 'PRO' });
  gateway.upstream.behave({ reply: 'The same answer, token by token or all at once.' });
  const buffered = (await alice.execute(CHAT, { input: { content: 'same question' } })).data.chat.replies[0];
  const streamed = (await alice.subscribe(CHAT_STREAM, { input: { content: 'same question' } }).done).at(-1).chatStream.message;
  expect(streamed.content).toBe(buffered.content);
  expect(streamed.usage.inputTokens).toBe(buffered.usage.inputTokens);
  expect(streamed.usage.outputTokens).toBe(buffered.usage.outputTokens);
  expect(streamed.usage.cost).toBe(buffered.usage.cost);
});

test('callers see their own usage only; operators see anyone and everyone', async () => {
  const alice = await gateway.user({ tier: 'PRO' });
  const bob = await gateway.user({ tier: 'PRO' });
  await alice.execute(CHAT, { input: { content: 'hi' } });
  const aliceId = (await alice.execute('{ viewer { user { id } } }')).data.viewer.user.id;
  expect((await bob.execute(USAGE, {})).data.usage.totalRequests).toBe(0);
  const refused = await bob.execute(USAGE, { userId: aliceId });
  expect(codeOf(refused)).toBe('FORBIDDEN');

  const { admin, db } = gateway.app.services;
  const operator = await admin.createUser({ email: `ops-${Date.now()}@example.com`, tier: 'ENTERPRISE', isOperator: true });
  // Operators read through a signed-in session, not a key: give this one a guest-free path via the service.
  const asOperator = await gateway.app.services.usage.stats({ userId: null, recentLimit: 5 });
  expect(asOperator.totalRequests).toBeGreaterThanOrEqual(1);
  expect(operator.isOperator).toBe(true);
  const aliceRow = await db.prisma.usageEvent.findFirstOrThrow({
    where: { action: 'CHAT', userId: Buffer.from(aliceId, 'base64url').toString().split(':')[1] },
  });
  expect(aliceRow.billedUserId).toBe(aliceRow.userId);
});

test('a delegated call records the acting member and the paying key owner', async () => {
  const { admin, db } = gateway.app.services;
  const owner = await gateway.user({ tier: 'ENTERPRISE', allowExternalUsage: true });
  const member = await gateway.user({ tier: 'FREE' });
  const team = await admin.createTeam(owner.id, 'Delegation');
  await admin.addTeamMember(team.id, member.id);
  await gateway
    .anonymous({ authorization: `Bearer ${owner.apiKey}`, 'x-acting-user-email': member.email })
    .execute(CHAT, { input: { content: 'for the member' } });
  await eventually(() => db.prisma.usageEvent.findFirst({ where: { userId: member.id } }));
  const row = await db.prisma.usageEvent.findFirstOrThrow({ where: { userId: member.id } });
  expect(row).toMatchObject({ userId: member.id, billedUserId: owner.id, action: 'CHAT', success: true });
  expect(row.apiKeyId).not.toBeNull();
  expect((await owner.execute(USAGE, {})).data.usage.totalRequests).toBe(1);
  expect((await member.execute(USAGE, {})).data.usage.totalRequests).toBe(1);
});
