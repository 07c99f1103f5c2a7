import { afterAll, beforeAll, expect, test } from 'vitest';
import { ConversationDocument, MessageStreamDocument, SendMessageDocument, type MessageStreamSubscription } from '../generated/graphql.js';
import { startGateway, type Gateway } from '../support/harness.js';

// The same flow a frontend writes with codegen's typed documents: the result
// and variable types come from schema.graphql, so `npm run typecheck` fails
// when the schema drifts from the operations the clients use.
let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());

test('typed documents send, follow and read back a reply', async () => {
  const alice = gateway.guest();
  gateway.upstream.behave({ tokens: 5 });
  const sent = await alice.execute(SendMessageDocument, { input: { content: 'typed hello', models: ['fake-a'] } });
  const reply = sent.data!.sendMessage.replies[0]!;
  expect(reply.status).toBe('STREAMING');

  const events = (await alice.subscribe(MessageStreamDocument, { messageId: reply.id }).done) as MessageStreamSubscription[];
  const last = events.at(-1)!.messageStream;
  expect(last.__typename).toBe('MessageFinished');
  if (last.__typename !== 'MessageFinished') return;
  expect(last.message.status).toBe('COMPLETE');

  const conversation = await alice.execute(ConversationDocument, { id: sent.data!.sendMessage.conversation.id, first: 10 });
  expect(conversation.data!.conversation!.messages.edges.map((edge) => edge.node.content)).toEqual(['typed hello', last.message.content]);
});
