import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startGateway, type Caller, type Gateway, type GraphQLResponse } from '../support/harness.js';
import { CHAT, CONVERSATION, DELETE_CONVERSATION, MESSAGE_STREAM, RENAME_CONVERSATION, SEND_MESSAGE } from '../support/operations.js';

const REMOVE_FILES = /* GraphQL */ `mutation ($ids: [ID!]!) { removeFiles(ids: $ids) { id } }`;
const REVOKE_KEY = /* GraphQL */ `mutation ($id: ID!) { revokeApiKey(id: $id) }`;

let gateway: Gateway;
let alice: Caller;
let conversationId: string;
let messageId: string;

beforeAll(async () => {
  gateway = await startGateway();
  alice = gateway.guest();
  const sent = await alice.execute(CHAT, { input: { content: 'hello' } });
  conversationId = sent.data.chat.conversation.id;
  messageId = sent.data.chat.userMessage.id;
});
afterAll(() => gateway?.close());

function expectBadId(result: GraphQLResponse, id: string) {
  expect(result.status).toBe(400);
  expect(result.errors).toHaveLength(1);
  expect(result.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  expect(result.errors![0]!.message).toBe(`The id "${id}" is not valid.`);
}

describe('an id that is malformed or of another type is BAD_USER_INPUT naming it', () => {
  test('in a required argument', async () => {
    expectBadId(await alice.execute(RENAME_CONVERSATION, { id: 'not-an-id', title: 'x' }), 'not-an-id');
    expectBadId(await alice.execute(RENAME_CONVERSATION, { id: messageId, title: 'x' }), messageId);
    expectBadId(await alice.execute(DELETE_CONVERSATION, { id: messageId }), messageId);
    const query = await alice.execute(CONVERSATION, { id: messageId });
    expectBadId(query, messageId);
    expect(query.errors![0]!.path).toEqual(['conversation']);
    // The conversation is untouched.
    expect((await alice.execute(CONVERSATION, { id: conversationId })).data.conversation.title).toBe('hello');
  });

  test('in an input object field, and nothing is stored', async () => {
    expectBadId(await alice.execute(SEND_MESSAGE, { input: { content: 'hi', conversationId: 'not-an-id' } }), 'not-an-id');
    expectBadId(await alice.execute(SEND_MESSAGE, { input: { content: 'hi', parentMessageId: conversationId } }), conversationId);
    expectBadId(await alice.execute(SEND_MESSAGE, { input: { content: 'hi', fileIds: [messageId] } }), messageId);
    expect((await alice.execute(CONVERSATION, { id: conversationId })).data.conversation.messageCount).toBe(2);
  });

  test('in a list argument', async () => {
    expectBadId(await alice.execute(REMOVE_FILES, { ids: [conversationId] }), conversationId);
  });

  test('for an API key, which has no object type of its own', async () => {
    const member = await gateway.user();
    expectBadId(await member.execute(REVOKE_KEY, { id: conversationId }), conversationId);
    expectBadId(await member.execute(REVOKE_KEY, { id: 'not-an-id' }), 'not-an-id');
  });

  test('in the language the caller asked for', async () => {
    const french = await gateway.guest({ 'accept-language': 'fr' }).execute(DELETE_CONVERSATION, { id: 'not-an-id' });
    expect(french.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(french.errors![0]!.message).toBe("L'identifiant « not-an-id » n'est pas valide.");
  });

  test('when a subscription starts over graphql-ws', async () => {
    for (const id of ['not-an-id', conversationId]) {
      const subscription = alice.subscribe(MESSAGE_STREAM, { messageId: id });
      await subscription.done;
      expect(subscription.events).toEqual([]);
      expect((subscription.errors[0] as any).extensions.code).toBe('BAD_USER_INPUT');
    }
  });
});

test('credentials and scopes are checked before ids, as before', async () => {
  const anonymous = await gateway.anonymous().execute(DELETE_CONVERSATION, { id: 'not-an-id' });
  expect(anonymous.status).toBe(401);
  expect(anonymous.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  const readOnly = await gateway.user({ scopes: ['read'] });
  expect((await readOnly.execute(DELETE_CONVERSATION, { id: messageId })).errors![0]!.extensions!.code).toBe('FORBIDDEN');
  const subscription = gateway.anonymous().subscribe(MESSAGE_STREAM, { messageId: 'not-an-id' });
  await subscription.done;
  expect((subscription.errors[0] as any).extensions.code).toBe('UNAUTHENTICATED');
});

test('an empty optional id still reads as omitted: a new conversation', async () => {
  const sent = await alice.execute(SEND_MESSAGE, { input: { content: 'fresh start', conversationId: '' } });
  expect(sent.errors).toBeUndefined();
  expect(sent.data.sendMessage.conversation.id).not.toBe(conversationId);
});
