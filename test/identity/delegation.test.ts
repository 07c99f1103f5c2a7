import { afterAll, beforeAll, expect, test } from 'vitest';
import { codeOf, startGateway, type Gateway } from '../support/harness.js';
import { CHAT, CONVERSATIONS } from '../support/operations.js';

const VIEWER = /* GraphQL */ `query { viewer { user { email } actingUser { email } credits } }`;
const TEAMS = /* GraphQL */ `query { viewer { user { teams { name owner { email } members { email } } } } }`;

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());

async function team() {
  const { admin, db } = gateway.app.services;
  const owner = await gateway.user({ tier: 'ENTERPRISE', allowExternalUsage: true, credits: 2_000_000 });
  const member = await gateway.user({ tier: 'FREE', credits: 0 });
  const outsider = await gateway.user({ tier: 'FREE' });
  const created = await admin.createTeam(owner.id, `Support ${owner.id.slice(-6)}`);
  await admin.addTeamMember(created.id, member.id);
  return { owner, member, outsider, db };
}

test('a key with external usage acts for a team member: their data, the owner pays', async () => {
  const { owner, member } = await team();
  const asMember = gateway.anonymous({ authorization: `Bearer ${owner.apiKey}`, 'x-acting-user-email': member.email.toUpperCase() });

  const viewer = (await asMember.execute(VIEWER)).data.viewer;
  expect(viewer.user.email).toBe(owner.email);
  expect(viewer.actingUser.email).toBe(member.email);

  gateway.upstream.behave({ tokens: 4 });
  const reply = (await asMember.execute(CHAT, { input: { content: 'written for the member' } })).data.chat;
  expect(reply.replies[0].status).toBe('COMPLETE');

  // The conversation belongs to the member, not to the owner.
  expect((await member.execute(CONVERSATIONS, { first: 5 })).data.conversations.edges.map((edge: any) => edge.node.title)).toEqual(['written for the member']);
  expect((await owner.execute(CONVERSATIONS, { first: 5 })).data.conversations.totalCount).toBe(0);
  // Credits and limits are the owner's.
  expect((await member.execute(VIEWER)).data.viewer.credits).toBe(0);
  expect((await owner.execute(VIEWER)).data.viewer.credits).toBeLessThan(2_000_000);

  const teams = (await member.execute(TEAMS)).data.viewer.user.teams;
  expect(teams[0].owner.email).toBe(owner.email);
  expect(teams[0].members.map((user: any) => user.email).sort()).toEqual([owner.email, member.email].sort());
});

test('acting for someone outside the teams is FORBIDDEN', async () => {
  const { owner, outsider } = await team();
  const result = await gateway.anonymous({ authorization: `Bearer ${owner.apiKey}`, 'x-acting-user-email': outsider.email }).execute(VIEWER);
  expect(result.status).toBe(403);
  expect(codeOf(result)).toBe('FORBIDDEN');
  expect(result.errors![0]!.message).toContain(outsider.email);
});

test('a key without external usage, a guest, or a person cannot act for anyone', async () => {
  const { member } = await team();
  const plainKey = await gateway.user({ tier: 'ENTERPRISE' });
  for (const caller of [
    gateway.anonymous({ authorization: `Bearer ${plainKey.apiKey}`, 'x-acting-user-email': member.email }),
    gateway.guest({ 'x-acting-user-email': member.email }),
  ]) {
    const result = await caller.execute(VIEWER);
    expect(codeOf(result)).toBe('FORBIDDEN');
  }
});
