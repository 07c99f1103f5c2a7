import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGateway, type Gateway } from '../support/harness.js';
import { CHAT } from '../support/operations.js';

// Token and reasoning events skip GraphQL execution: their result is built from the
// operation's selection. A directive makes the gateway execute them as
// usual, so each selection below is followed both ways and must match.
let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());

const selections = [
  `subscription ($id: ID!) { messageStream(messageId: $id) { __typename seq FIELD ... on TokenDelta { delta } } }`,
  `subscription Follow($id: ID!) {
     events: messageStream(messageId: $id) {
       ...Base
       ... on TokenDelta { text: delta seq }
       ... on ToolCallEvent { toolCall { id } }
       ... on MessageFinished { message { status } }
       kind: __typename FIELD
       ... { id: messageId }
     }
   }
   fragment Base on MessageEvent { seq messageId ... on TokenDelta { delta } }`,
  `subscription ($id: ID!) { messageStream(messageId: $id) { seq FIELD ... on ReasoningDelta { thought: delta __typename } ... on TokenDelta { delta } } }`,
];

test('token events built from the selection equal those GraphQL execution produces', async () => {
  const alice = gateway.guest();
  gateway.upstream.behave({ thinking: 2, tokens: 6 });
  const chat = await alice.execute(CHAT, { input: { content: 'six tokens please' } });
  const reply = chat.data.chat.replies[0];
  expect(reply.status).toBe('COMPLETE');

  for (const selection of selections) {
    const planned = await alice.subscribe(selection.replace('FIELD', ''), { id: reply.id }).done;
    const executed = await alice.subscribe(selection.replace('FIELD', 'seq @include(if: true)'), { id: reply.id }).done;
    expect(planned).toHaveLength(9);
    // Same values in the same key order, so byte-for-byte the same messages.
    expect(planned.map((event) => JSON.stringify(event))).toEqual(executed.map((event) => JSON.stringify(event)));
  }

  const [thinking, , answer] = await alice.subscribe(selections[1]!.replace('FIELD', ''), { id: reply.id }).done;
  expect(thinking).toEqual({ events: { seq: 1, messageId: reply.id, kind: 'ReasoningDelta', id: reply.id } });
  expect(answer).toEqual({ events: { seq: 3, messageId: reply.id, delta: 'tok1 ', text: 'tok1 ', kind: 'TokenDelta', id: reply.id } });
  const [thought] = await alice.subscribe(selections[2]!.replace('FIELD', ''), { id: reply.id }).done;
  expect(thought).toEqual({ messageStream: { seq: 1, thought: 'think1 ', __typename: 'ReasoningDelta' } });
});
