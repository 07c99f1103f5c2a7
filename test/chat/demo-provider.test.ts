import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGateway, type Gateway } from '../support/harness.js';
import { CHAT_STREAM, HEALTH } from '../support/operations.js';

// No provider configured: the built-in demo answers, through the same SDK path.
let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway({ providers: [], defaultModel: undefined });
});
afterAll(async () => {
  await gateway?.close();
});

test('health says the demo provider is in use and it is the default model', async () => {
  const { health } = (await gateway.anonymous().execute(HEALTH)).data;
  expect(health.usingDemoProvider).toBe(true);
  expect(health.defaultModel).toBe('demo');
  expect(health.providers.filter((provider: any) => provider.configured).map((provider: any) => provider.id)).toEqual(['demo']);
});

test('the demo streams a deterministic reply naming the model, system prompt and history it received', async () => {
  const alice = gateway.guest();
  const run = async () =>
    (
      await alice.subscribe(CHAT_STREAM, {
        input: { content: 'What do you see?', systemPrompt: 'You are terse.', history: [{ role: 'USER', content: 'earlier' }] },
      }).done
    ).map((data: any) => data.chatStream);
  const events = await run();
  const deltas = events.filter((event: any) => event.__typename === 'TokenDelta');
  expect(deltas.length).toBeGreaterThanOrEqual(3);
  const reply = events.at(-1).message;
  expect(reply.model.id).toBe('demo');
  expect(reply.content).toBe(deltas.map((event: any) => event.delta).join(''));
  expect(reply.content).toBe('Demo reply from demo. I received 3 messages. System prompt: "You are terse.". You said: "What do you see?". Earlier turns: 1.');
  expect(reply.usage.outputTokens).toBe(deltas.length);

  const again = await run();
  expect(again.at(-1).message.content).toBe(reply.content);
});
