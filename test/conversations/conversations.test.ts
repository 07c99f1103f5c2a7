import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { startGateway, type Gateway } from '../support/harness.js';
import { CHAT, CONVERSATION, CONVERSATIONS, DELETE_CONVERSATION, MESSAGE, REGENERATE, RENAME_CONVERSATION, SEND_MESSAGE } from '../support/operations.js';

let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(async () => {
  await gateway?.close();
});
beforeEach(() => gateway.upstream.reset());

const chatIn = async (caller: ReturnType<Gateway['guest']>, content: string, extra: Record<string, unknown> = {}) =>
  (await caller.execute(CHAT, { input: { content, ...extra } })).data.chat;

describe('history', () => {
  test('earlier turns of the conversation reach the upstream, in order', async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ reply: 'Paris is the capital.' });
    const first = await chatIn(alice, 'What is the capital of France?', { systemPrompt: 'Answer in one sentence.' });
    gateway.upstream.behave({ reply: 'About two million people.' });
    await chatIn(alice, 'How many people live there?', { conversationId: first.conversation.id });

    const sent = gateway.upstream.requests.at(-1)!.body.messages;
    expect(sent).toEqual([
      { role: 'system', content: 'Answer in one sentence.' },
      { role: 'user', content: 'What is the capital of France?' },
      { role: 'assistant', content: 'Paris is the capital.' },
      { role: 'user', content: 'How many people live there?' },
    ]);
  });

  test('client-supplied history goes before the new message', async () => {
    const alice = gateway.guest();
    await chatIn(alice, 'and now?', {
      history: [
        { role: 'USER', content: 'earlier question' },
        { role: 'ASSISTANT', content: 'earlier answer' },
      ],
    });
    expect(gateway.upstream.requests.at(-1)!.body.messages).toEqual([
      { role: 'user', content: 'earlier question' },
      { role: 'assistant', content: 'earlier answer' },
      { role: 'user', content: 'and now?' },
    ]);
  });

  test('with several replies, the next turn follows the reply of the first requested model', async () => {
    const alice = gateway.guest();
    const first = await chatIn(alice, 'pick one', { models: ['fake-a', 'fake-b'] });
    await chatIn(alice, 'continue', { conversationId: first.conversation.id, models: ['fake-b'] });
    const sent = gateway.upstream.requests.at(-1)!.body.messages;
    const fakeB = first.replies.find((reply: any) => reply.model.id === 'fake-b');
    expect(sent[1]).toEqual({ role: 'assistant', content: fakeB.content });
    expect(sent).toHaveLength(3);
  });

  test('parentMessageId branches from an earlier point', async () => {
    const alice = gateway.guest();
    const first = await chatIn(alice, 'first question');
    const second = await chatIn(alice, 'second question', { conversationId: first.conversation.id });
    // Edit the second question: the new branch shares only the first turn.
    await chatIn(alice, 'second question, edited', { parentMessageId: second.userMessage.id });
    const sent = gateway.upstream.requests.at(-1)!.body.messages;
    expect(sent.map((message: any) => message.content)).toEqual(['first question', first.replies[0].content, 'second question, edited']);
    const edited = (await alice.execute(CONVERSATION, { id: first.conversation.id, first: 10 })).data.conversation;
    expect(edited.messageCount).toBe(6);
  });

  test('regenerate answers the same question again with the same history', async () => {
    const alice = gateway.guest();
    const first = await chatIn(alice, 'tell me a joke');
    gateway.upstream.behave({ reply: 'A different joke.' });
    const regenerated = (await alice.execute(REGENERATE, { messageId: first.replies[0].id, model: 'fake-c' })).data.regenerate;
    expect(regenerated.status).toBe('STREAMING');
    expect(regenerated.parent.id).toBe(first.userMessage.id);
    expect(regenerated.model.id).toBe('fake-c');
    let stored: any;
    do stored = (await alice.execute(MESSAGE, { id: regenerated.id })).data.node;
    while (stored.status === 'STREAMING');
    expect(stored.content).toBe('A different joke.');
    expect(gateway.upstream.requests.at(-1)!.body.messages).toEqual([{ role: 'user', content: 'tell me a joke' }]);
    const old = (await alice.execute(MESSAGE, { id: first.replies[0].id })).data.node;
    expect(old.content).toBe(first.replies[0].content);
  });
});

describe('conversations', () => {
  test('list newest first with totals, paged by cursor', async () => {
    const alice = gateway.guest();
    const titles = ['one', 'two', 'three'];
    for (const title of titles) await chatIn(alice, title);
    const page1 = (await alice.execute(CONVERSATIONS, { first: 2 })).data.conversations;
    expect(page1.totalCount).toBe(3);
    expect(page1.edges.map((edge: any) => edge.node.title)).toEqual(['three', 'two']);
    expect(page1.edges[0].node.messageCount).toBe(2);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await alice.execute(CONVERSATIONS, { first: 2, after: page1.pageInfo.endCursor })).data.conversations;
    expect(page2.edges.map((edge: any) => edge.node.title)).toEqual(['one']);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    const today = (await alice.execute(CONVERSATIONS, { first: 10, period: 'TODAY' })).data.conversations;
    expect(today.totalCount).toBe(3);
    const lastMonth = (await alice.execute(CONVERSATIONS, { first: 10, period: 'LAST_MONTH' })).data.conversations;
    expect(lastMonth.totalCount).toBe(0);
  });

  test('messages page forwards from the oldest and backwards from the newest', async () => {
    const alice = gateway.guest();
    const first = await chatIn(alice, 'm1');
    const id = first.conversation.id;
    await chatIn(alice, 'm2', { conversationId: id });
    await chatIn(alice, 'm3', { conversationId: id });

    const forward = (await alice.execute(CONVERSATION, { id, first: 2 })).data.conversation.messages;
    expect(forward.totalCount).toBe(6);
    expect(forward.edges.map((edge: any) => edge.node.content)).toEqual(['m1', first.replies[0].content]);
    expect(forward.pageInfo.hasNextPage).toBe(true);
    const next = (await alice.execute(CONVERSATION, { id, first: 2, after: forward.pageInfo.endCursor })).data.conversation.messages;
    expect(next.edges[0].node.content).toBe('m2');

    const backward = (await alice.execute(CONVERSATION, { id, last: 2 })).data.conversation.messages;
    expect(backward.edges.map((edge: any) => edge.node.role)).toEqual(['USER', 'ASSISTANT']);
    expect(backward.edges[0].node.content).toBe('m3');
    expect(backward.pageInfo.hasPreviousPage).toBe(true);
    const earlier = (await alice.execute(CONVERSATION, { id, last: 2, before: backward.pageInfo.startCursor })).data.conversation.messages;
    expect(earlier.edges[0].node.content).toBe('m2');
  });

  test('rename and delete; the title comes from the first message', async () => {
    const alice = gateway.guest();
    const { conversation } = await chatIn(alice, 'Plan a trip to Lisbon\nwith details');
    expect(conversation.title).toBe('Plan a trip to Lisbon');
    const renamed = await alice.execute(RENAME_CONVERSATION, { id: conversation.id, title: '  Lisbon  ' });
    expect(renamed.data.renameConversation.title).toBe('Lisbon');
    const empty = await alice.execute(RENAME_CONVERSATION, { id: conversation.id, title: ' ' });
    expect(empty.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect((await alice.execute(DELETE_CONVERSATION, { id: conversation.id })).data.deleteConversation).toBe(true);
    expect((await alice.execute(CONVERSATION, { id: conversation.id })).data.conversation).toBeNull();
  });

  test('a renamed conversation answers with its counts and last message', async () => {
    const alice = gateway.guest();
    const { conversation } = await chatIn(alice, 'Count me');
    const renamed = await alice.execute(
      'mutation ($id: ID!, $title: String!) { renameConversation(id: $id, title: $title) { title messageCount lastMessage { role } files { id } } }',
      { id: conversation.id, title: 'Counted' },
    );
    expect(renamed.errors).toBeUndefined();
    expect(renamed.data.renameConversation).toEqual({ title: 'Counted', messageCount: 2, lastMessage: { role: 'ASSISTANT' }, files: [] });
  });

  test('deleting a conversation stops its running replies first', async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ tokens: 500, delayMs: 20 });
    const sent = (await alice.execute(SEND_MESSAGE, { input: { content: 'long' } })).data.sendMessage;
    expect((await alice.execute(DELETE_CONVERSATION, { id: sent.conversation.id })).data.deleteConversation).toBe(true);
    expect(gateway.app.services.chat.runningCount()).toBe(0);
  });

  test("a caller never sees another caller's conversations or messages", async () => {
    const alice = gateway.guest();
    const bob = gateway.guest();
    const { conversation, replies } = await chatIn(alice, 'secret plans');
    expect((await bob.execute(CONVERSATIONS, { first: 10 })).data.conversations.totalCount).toBe(0);
    expect((await bob.execute(CONVERSATION, { id: conversation.id })).data.conversation).toBeNull();
    expect((await bob.execute(MESSAGE, { id: replies[0].id })).data.node).toBeNull();
    const rename = await bob.execute(RENAME_CONVERSATION, { id: conversation.id, title: 'mine' });
    expect(rename.errors![0]!.extensions!.code).toBe('NOT_FOUND');
    const remove = await bob.execute(DELETE_CONVERSATION, { id: conversation.id });
    expect(remove.errors![0]!.extensions!.code).toBe('NOT_FOUND');
    const send = await bob.execute(SEND_MESSAGE, { input: { conversationId: conversation.id, content: 'hijack' } });
    expect(send.errors![0]!.extensions!.code).toBe('NOT_FOUND');
    expect(send.status).toBe(404);
    const regenerate = await bob.execute(REGENERATE, { messageId: replies[0].id });
    expect(regenerate.errors![0]!.extensions!.code).toBe('NOT_FOUND');
    expect((await alice.execute(CONVERSATION, { id: conversation.id })).data.conversation.title).toBe('secret plans');
  });
});
