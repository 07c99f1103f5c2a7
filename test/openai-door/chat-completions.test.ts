import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { eventually, startGateway, type Gateway } from '../support/harness.js';

// The openai SDK, as any OpenAI client would use the gateway: base URL and an API key.
let gateway: Gateway;
beforeAll(async () => {
  // fake-a falls back on fake-c, as FALLBACK_MODELS would say.
  gateway = await startGateway({ fallbackModels: { 'fake-a': ['fake-c'] } });
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

const clientFor = (apiKey: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });
const conversationIdOf = (globalId: string) =>
  Buffer.from(globalId, 'base64url')
    .toString('utf8')
    .replace(/^Conversation:/, '');

test('a completion, not streamed: the reply, its usage, a usage row and the stored conversation', async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  gateway.upstream.behave({ tokens: 6 });
  const { data: completion, response } = await clientFor(alice.apiKey)
    .chat.completions.create({
      model: 'fake-a',
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'Hello over the OpenAI door' },
      ],
    })
    .withResponse();
  expect(completion.object).toBe('chat.completion');
  expect(completion.model).toBe('fake-a');
  expect(completion.choices[0]!.message).toMatchObject({ role: 'assistant', content: 'tok1 tok2 tok3 tok4 tok5 tok6 ' });
  expect(completion.choices[0]!.finish_reason).toBe('stop');
  expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
  expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + completion.usage!.completion_tokens);

  const { prisma } = gateway.app.services.db;
  const conversationId = conversationIdOf(response.headers.get('x-conversation-id')!);
  const conversation = await prisma.conversation.findUniqueOrThrow({ where: { id: conversationId }, include: { messages: { orderBy: { position: 'asc' } } } });
  expect(conversation.ownerId).toBe(alice.id);
  expect(conversation.systemPrompt).toBe('Answer briefly.');
  expect(conversation.messages.map((message) => [message.role, message.content])).toEqual([
    ['USER', 'Hello over the OpenAI door'],
    ['ASSISTANT', 'tok1 tok2 tok3 tok4 tok5 tok6 '],
  ]);
  const reply = conversation.messages[1]!;
  expect(completion.id).toBe(`chatcmpl-${reply.id}`);
  const usage = await eventually(() => prisma.usageEvent.findFirst({ where: { messageId: reply.id } }));
  expect(usage).toMatchObject({ userId: alice.id, modelId: 'fake-a', success: true, outputTokens: completion.usage!.completion_tokens });
  expect(usage.apiKeyId).not.toBeNull();
  // The provider got the system prompt and the question.
  const sent = gateway.upstream.requests.at(-1)!.body.messages;
  expect(sent[0]).toMatchObject({ role: 'system', content: expect.stringContaining('Answer briefly.') });
  expect(sent.at(-1)).toMatchObject({ role: 'user', content: 'Hello over the OpenAI door' });
  const after = await prisma.user.findUniqueOrThrow({ where: { id: alice.id } });
  expect(after.creditBalance).toBeLessThan(5_000_000);
});

test('a streamed completion: chunks in OpenAI format, usage last, and the same text stored', async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  gateway.upstream.behave({ tokens: 8, delayMs: 5 });
  const stream = await clientFor(alice.apiKey).chat.completions.create({
    model: 'fake-b',
    messages: [{ role: 'user', content: 'Stream to me' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk' && chunk.id === chunks[0]!.id && chunk.model === 'fake-b')).toBe(true);
  expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
  const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
  expect(text).toBe('tok1 tok2 tok3 tok4 tok5 tok6 tok7 tok8 ');
  expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
  const usageChunk = chunks.at(-1)!;
  expect(usageChunk.choices).toEqual([]);
  expect(usageChunk.usage!.completion_tokens).toBeGreaterThan(0);

  const reply = await gateway.app.services.db.prisma.message.findUniqueOrThrow({ where: { id: chunks[0]!.id.replace('chatcmpl-', '') } });
  expect(reply).toMatchObject({ status: 'COMPLETE', content: text, outputTokens: usageChunk.usage!.completion_tokens });
});

test('the stream on the wire: data lines of JSON chunks, then data: [DONE]', async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  gateway.upstream.behave({ tokens: 2 });
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'fake-a', messages: [{ role: 'user', content: 'wire' }], stream: true }),
  });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const events = (await response.text()).split('\n\n').filter(Boolean);
  expect(events.every((event) => event.startsWith('data: '))).toBe(true);
  expect(events.at(-1)).toBe('data: [DONE]');
  const chunks = events.slice(0, -1).map((event) => JSON.parse(event.slice('data: '.length)));
  expect(chunks.map((chunk) => chunk.choices[0].delta)).toEqual([{ role: 'assistant', content: '' }, { content: 'tok1 ' }, { content: 'tok2 ' }, {}]);
  expect(chunks.at(-1).choices[0].finish_reason).toBe('stop');
});

test('x-conversation-id continues a stored conversation: its history is the context, the turn is added to it', async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  const client = clientFor(alice.apiKey);
  gateway.upstream.behave({ reply: 'First answer.' });
  const first = await client.chat.completions.create({ model: 'fake-a', messages: [{ role: 'user', content: 'First question' }] }).withResponse();
  const conversation = first.response.headers.get('x-conversation-id')!;
  gateway.upstream.behave({ reply: 'Second answer.' });
  const second = await client.chat.completions
    .create({ model: 'fake-a', messages: [{ role: 'user', content: 'Second question' }] }, { headers: { 'x-conversation-id': conversation } })
    .withResponse();
  expect(second.response.headers.get('x-conversation-id')).toBe(conversation);
  expect(second.data.choices[0]!.message.content).toBe('Second answer.');
  const sent = gateway.upstream.requests.at(-1)!.body.messages.map((message: any) => message.content);
  expect(sent.slice(-3)).toEqual(['First question', 'First answer.', 'Second question']);
  const stored = await gateway.app.services.db.prisma.message.findMany({
    where: { conversationId: conversationIdOf(conversation) },
    orderBy: { position: 'asc' },
  });
  expect(stored.map((message) => message.content)).toEqual(['First question', 'First answer.', 'Second question', 'Second answer.']);

  // Another caller cannot write into it.
  const bob = await gateway.user({ tier: 'BASIC' });
  const refused = await clientFor(bob.apiKey)
    .chat.completions.create({ model: 'fake-a', messages: [{ role: 'user', content: 'intrude' }] }, { headers: { 'x-conversation-id': conversation } })
    .catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(OpenAI.NotFoundError);
});

test('without a conversation, earlier messages of the request are the history', async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  gateway.upstream.behave({ tokens: 1 });
  await clientFor(alice.apiKey).chat.completions.create({
    model: 'fake-a',
    messages: [
      { role: 'user', content: 'Earlier question' },
      { role: 'assistant', content: 'Earlier answer' },
      { role: 'user', content: [{ type: 'text', text: 'Now this' }] },
    ],
  });
  const sent = gateway.upstream.requests.at(-1)!.body.messages.map((message: any) => [message.role, message.content]);
  expect(sent.slice(-3)).toEqual([
    ['user', 'Earlier question'],
    ['assistant', 'Earlier answer'],
    ['user', 'Now this'],
  ]);
});

test('a model that fails before its first token falls back as configured, and the completion names the model that answered', async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  gateway.upstream.behave({ failStatus: 500, failModels: ['fake-a'], tokens: 3 });
  const completion = await clientFor(alice.apiKey).chat.completions.create({ model: 'fake-a', messages: [{ role: 'user', content: 'fall back' }] });
  expect(completion.choices[0]!.message.content).toBe('tok1 tok2 tok3 ');
  expect(completion.model).toBe('fake-c');
});

test('a reply that fails mid-stream ends the stream with an error in OpenAI shape', async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  gateway.upstream.behave({ failStatus: 500, failModels: ['fake-b'], tokens: 3 });
  const stream = await clientFor(alice.apiKey).chat.completions.create({ model: 'fake-b', messages: [{ role: 'user', content: 'fail' }], stream: true });
  const error = await (async () => {
    for await (const _chunk of stream) {
      // read until the error event
    }
  })().catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(OpenAI.APIError);
  expect((error as InstanceType<typeof OpenAI.APIError>).type).toBe('api_error');
  const failed = await gateway.app.services.db.prisma.message.findFirstOrThrow({ where: { role: 'ASSISTANT', conversation: { ownerId: alice.id } } });
  expect(failed.status).toBe('FAILED');
});

test('a client that goes away mid-stream stops following; the reply still finishes and is stored', async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  gateway.upstream.behave({ tokens: 40, delayMs: 40 });
  const controller = new AbortController();
  const stream = await clientFor(alice.apiKey).chat.completions.create(
    { model: 'fake-b', messages: [{ role: 'user', content: 'leave early' }], stream: true },
    { signal: controller.signal },
  );
  let id = '';
  const reading = (async () => {
    for await (const chunk of stream) {
      id = chunk.id.replace('chatcmpl-', '');
      if (chunk.choices[0]?.delta.content === 'tok2 ') controller.abort();
    }
  })().catch(() => {});
  await reading;
  const { chat, db } = gateway.app.services;
  await eventually(() => chat.followerCount() === 0, 3_000);
  const reply = await eventually(async () => {
    const row = await db.prisma.message.findUniqueOrThrow({ where: { id } });
    return row.status === 'COMPLETE' ? row : null;
  }, 10_000);
  expect(reply.content).toContain('tok40');
});
