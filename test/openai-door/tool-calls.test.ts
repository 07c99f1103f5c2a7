import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { startGateway, type Gateway } from '../support/harness.js';

// Function calling over the OpenAI door with the openai SDK: calls in OpenAI's shape, results sent back as tool messages.
let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

const WEATHER: ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'The weather in a city.', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};
const clientFor = (apiKey: string, conversationId?: string) =>
  new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0, defaultHeaders: conversationId ? { 'x-conversation-id': conversationId } : {} });
const chatRequests = () => gateway.upstream.requests.filter((request) => request.path.endsWith('/chat/completions'));

test('not streamed: a call in message.tool_calls, then its result sent back continues the stored conversation', async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  const question: ChatCompletionMessageParam = { role: 'user', content: 'Use get_weather for Lisbon' };
  const { data: first, response } = await clientFor(alice.apiKey)
    .chat.completions.create({ model: 'fake-a', messages: [question], tools: [WEATHER], tool_choice: 'auto' })
    .withResponse();
  expect(first.choices[0]!.finish_reason).toBe('tool_calls');
  const calls = first.choices[0]!.message.tool_calls!;
  expect(calls).toHaveLength(1);
  expect(calls[0]).toMatchObject({ type: 'function', function: { name: 'get_weather', arguments: JSON.stringify({ city: 'Use get_weather for Lisbon' }) } });
  expect(chatRequests()[0]!.body.tools).toEqual([WEATHER]);
  expect(chatRequests()[0]!.body.tool_choice).toBe('auto');

  const conversation = response.headers.get('x-conversation-id')!;
  const followUp = [question, first.choices[0]!.message, { role: 'tool' as const, tool_call_id: calls[0]!.id, content: 'sunny, 24°C' }];
  const wrongId = await clientFor(alice.apiKey, conversation)
    .chat.completions.create({
      model: 'fake-a',
      tools: [WEATHER],
      messages: [question, first.choices[0]!.message, { role: 'tool', tool_call_id: 'call_9', content: 'x' }],
    })
    .catch((error: unknown) => error);
  expect(wrongId).toMatchObject({ status: 400, param: 'messages' });

  const final = await clientFor(alice.apiKey, conversation).chat.completions.create({ model: 'fake-a', tools: [WEATHER], messages: followUp });
  expect(final.choices[0]!.finish_reason).toBe('stop');
  expect(final.choices[0]!.message.content).toContain('sunny, 24°C');
  const sent = chatRequests().at(-1)!.body.messages;
  expect(sent.map((message: { role: string }) => message.role)).toEqual(['user', 'assistant', 'tool']);
  expect(sent[2]).toEqual({ role: 'tool', tool_call_id: calls[0]!.id, content: 'sunny, 24°C' });

  // The same results again: the reply no longer waits for them.
  const again = await clientFor(alice.apiKey, conversation)
    .chat.completions.create({ model: 'fake-a', messages: followUp })
    .catch((error: unknown) => error);
  expect(again).toMatchObject({ status: 400, param: 'messages' });
});

test('streamed: delta.tool_calls with an index and finish_reason tool_calls, then the streamed answer to the result', async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  const question: ChatCompletionMessageParam = { role: 'user', content: 'get_weather please' };
  const { data: stream, response } = await clientFor(alice.apiKey)
    .chat.completions.create({ model: 'fake-a', messages: [question], tools: [WEATHER], stream: true })
    .withResponse();
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const callChunks = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
  expect(callChunks).toEqual([{ index: 0, id: expect.any(String), type: 'function', function: { name: 'get_weather', arguments: expect.any(String) } }]);
  expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');

  const call = callChunks[0]!;
  const followUp = await clientFor(alice.apiKey, response.headers.get('x-conversation-id')!).chat.completions.create({
    model: 'fake-a',
    stream: true,
    tools: [WEATHER],
    messages: [
      question,
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: call.id!, type: 'function', function: { name: 'get_weather', arguments: call.function!.arguments! } }],
      },
      { role: 'tool', tool_call_id: call.id!, content: 'rain' },
    ],
  });
  let text = '';
  let finish: string | null = null;
  for await (const chunk of followUp) {
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  expect(finish).toBe('stop');
  expect(text).toContain('rain');
});
