import { afterAll, beforeAll, expect, test } from 'vitest';
import { codeOf, startGateway, type Gateway } from '../support/harness.js';
import { CHAT } from '../support/operations.js';

const SUBMIT = /* GraphQL */ `mutation ($input: FeedbackInput!) { submitFeedback(input: $input) { id kind value status comment details message { id } } }`;
const MESSAGE_FEEDBACK = /* GraphQL */ `query ($id: ID!) { node(id: $id) { ... on Message { feedback { kind value comment } } } }`;
const SUMMARY = /* GraphQL */ `query ($id: ID!) { feedbackSummary(conversationId: $id) { conversation { id } totalMessages messagesWithFeedback positive negative averageRating details { kind value } } }`;

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());

test('one feedback per user per reply, updatable, shown on the message', async () => {
  const alice = gateway.guest();
  const { replies, userMessage } = (await alice.execute(CHAT, { input: { content: 'rate me' } })).data.chat;
  const reply = replies[0].id;
  const first = (
    await alice.execute(SUBMIT, { input: { messageId: reply, kind: 'THUMBS_DOWN', status: 'incorrect', comment: 'wrong year', details: { expected: 1969 } } })
  ).data.submitFeedback;
  expect(first).toMatchObject({ kind: 'THUMBS_DOWN', value: -1, status: 'incorrect', details: { expected: 1969 } });
  const second = (await alice.execute(SUBMIT, { input: { messageId: reply, kind: 'RATING', value: 4 } })).data.submitFeedback;
  expect(second.id).toBe(first.id);
  expect((await alice.execute(MESSAGE_FEEDBACK, { id: reply })).data.node.feedback).toEqual({ kind: 'RATING', value: 4, comment: null });
  expect(codeOf(await alice.execute(SUBMIT, { input: { messageId: userMessage.id, kind: 'THUMBS_UP' } }))).toBe('NOT_FOUND');
});

test('bad values are BAD_USER_INPUT', async () => {
  const alice = gateway.guest();
  const reply = (await alice.execute(CHAT, { input: { content: 'x' } })).data.chat.replies[0].id;
  for (const input of [{ kind: 'RATING', value: 6 }, { kind: 'RATING' }, { kind: 'THUMBS_UP', value: -1 }, { kind: 'THUMBS_UP', status: 'x'.repeat(65) }]) {
    expect(codeOf(await alice.execute(SUBMIT, { input: { messageId: reply, ...input } }))).toBe('BAD_USER_INPUT');
  }
});

test('the summary counts replies, feedback, sentiment and the average rating', async () => {
  const alice = gateway.guest();
  const first = (await alice.execute(CHAT, { input: { content: 'one', models: ['fake-a', 'fake-b'] } })).data.chat;
  const second = (await alice.execute(CHAT, { input: { content: 'two', conversationId: first.conversation.id, models: ['fake-a', 'fake-b'] } })).data.chat;
  const [a, b] = first.replies.map((reply: any) => reply.id);
  const [c] = second.replies.map((reply: any) => reply.id);
  await alice.execute(SUBMIT, { input: { messageId: a, kind: 'THUMBS_UP' } });
  await alice.execute(SUBMIT, { input: { messageId: b, kind: 'RATING', value: 2 } });
  await alice.execute(SUBMIT, { input: { messageId: c, kind: 'RATING', value: 5 } });
  const summary = (await alice.execute(SUMMARY, { id: first.conversation.id })).data.feedbackSummary;
  expect(summary).toMatchObject({ totalMessages: 4, messagesWithFeedback: 3, positive: 2, negative: 1, averageRating: 3.5 });
  expect(summary.details[0]).toEqual({ kind: 'RATING', value: 5 });
});

test("nobody else can give, read or summarise a caller's feedback", async () => {
  const alice = gateway.guest();
  const bob = gateway.guest();
  const { replies, conversation } = (await alice.execute(CHAT, { input: { content: 'mine' } })).data.chat;
  const given = (await alice.execute(SUBMIT, { input: { messageId: replies[0].id, kind: 'THUMBS_UP' } })).data.submitFeedback;
  expect(codeOf(await bob.execute(SUBMIT, { input: { messageId: replies[0].id, kind: 'THUMBS_DOWN' } }))).toBe('NOT_FOUND');
  expect(codeOf(await bob.execute(SUMMARY, { id: conversation.id }))).toBe('NOT_FOUND');
  expect((await bob.execute('query ($id: ID!) { node(id: $id) { id } }', { id: given.id })).data.node).toBeNull();
  expect((await alice.execute(MESSAGE_FEEDBACK, { id: replies[0].id })).data.node.feedback.kind).toBe('THUMBS_UP');
});
