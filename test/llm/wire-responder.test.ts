import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDemoFetch, DEMO_BASE_URL } from '../../src/lib/llm/demo-provider.js';
import { describeRequest, embed } from '../../src/lib/llm/demo-replies.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { eventually } from '../support/harness.js';

// The demo provider and the tests' fake upstream speak the OpenAI wire protocol;
// these tests hold them to it with the real SDK, in-process and over HTTP.
let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(() => upstream?.close());

const overHttp = () => new OpenAI({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
const inProcess = () => new OpenAI({ baseURL: DEMO_BASE_URL, apiKey: 'demo', maxRetries: 0, fetch: createDemoFetch({ behaviour: () => ({}) }) });
const request = {
  model: 'demo',
  messages: [
    { role: 'system' as const, content: 'Be kind.\n[memory: likes tea]' },
    { role: 'user' as const, content: 'earlier question' },
    { role: 'assistant' as const, content: 'earlier answer' },
    {
      role: 'user' as const,
      content: [
        { type: 'text' as const, text: 'Summarise these\n[file: report.pdf]\nquarterly numbers\n[file: notes.txt]\nremember milk' },
        { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,AAAA' } },
      ],
    },
  ],
};

describe.each([
  ['in process (demo provider)', inProcess],
  ['over HTTP (fake upstream)', overHttp],
])('%s', (_name, client) => {
  test('streamed deltas join to the buffered reply, with usage when asked', async () => {
    const buffered = await client().chat.completions.create(request);
    const stream = await client().chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
    const deltas: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content;
      if (delta) deltas.push(delta);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.join('')).toBe(buffered.choices[0]!.message.content);
    expect(usage).toEqual(buffered.usage);
    expect(usage!.completion_tokens).toBe(deltas.length);
  });

  test('the reply names the model and everything in the context', async () => {
    const reply = (await client().chat.completions.create(request)).choices[0]!.message.content!;
    expect(reply).toBe(describeRequest(request));
    expect(reply).toContain('Demo reply from demo.');
    expect(reply).toContain('System prompt: "Be kind."');
    expect(reply).toContain('Files: report.pdf, notes.txt.');
    expect(reply).toContain('Memories: likes tea.');
    expect(reply).toContain('Images: 1.');
    expect(reply).toContain('Earlier turns: 2.');
  });

  test('max_tokens cuts the reply like a provider does', async () => {
    const reply = await client().chat.completions.create({ ...request, max_tokens: 2 });
    expect(reply.usage!.completion_tokens).toBe(2);
    expect(reply.choices[0]!.finish_reason).toBe('length');
  });

  test('embeddings are deterministic unit vectors, closer for texts that share words', async () => {
    const { data } = await client().embeddings.create({
      model: 'demo-embed',
      input: ['green tea in the morning', 'morning tea, green', 'tax return deadline'],
    });
    const [a, b, c] = data.map((item) => item.embedding);
    const dot = (x: number[], y: number[]) => x.reduce((sum, value, index) => sum + value * y[index]!, 0);
    expect(dot(a!, a!)).toBeCloseTo(1, 6);
    expect(dot(a!, b!)).toBeGreaterThan(dot(a!, c!));
    // float32 on the wire
    for (const [index, value] of a!.entries()) expect(value).toBeCloseTo(embed('green tea in the morning')[index]!, 6);
  });
});

describe('failure knobs over HTTP', () => {
  test('an HTTP error reaches the SDK as an APIError with its status and Retry-After', async () => {
    upstream.behave({ failStatus: 429, retryAfterSeconds: 3 });
    const error = await overHttp()
      .chat.completions.create(request)
      .catch((caught: unknown) => caught);
    upstream.reset();
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(429);
    expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('3');
  });

  test('a dropped connection ends the stream with an error after exactly the deltas sent', async () => {
    upstream.behave({ tokens: 20, disconnectAfter: 3, delayMs: 10 });
    const deltas: string[] = [];
    const failure = await (async () => {
      for await (const chunk of await overHttp().chat.completions.create({ ...request, stream: true })) {
        const delta = chunk.choices[0]?.delta?.content;
        if (delta) deltas.push(delta);
      }
    })().catch((caught: unknown) => caught);
    upstream.reset();
    expect(failure).toBeInstanceOf(Error);
    expect(deltas).toEqual(['tok1 ', 'tok2 ', 'tok3 ']);
  });

  test('aborting a stream closes it upstream', async () => {
    upstream.behave({ tokens: 500, delayMs: 10 });
    const controller = new AbortController();
    const stream = await overHttp().chat.completions.create({ ...request, stream: true }, { signal: controller.signal });
    let received = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) received += 1;
      if (received === 3) controller.abort();
    }
    upstream.reset();
    expect(received).toBe(3);
    await eventually(() => upstream.openStreams() === 0);
  });

  test('tool calls stream as tool_calls deltas that reassemble', async () => {
    upstream.behave({ tokens: 1, toolCalls: [{ name: 'lookup', arguments: '{"query":"weather in Lisbon"}' }] });
    let name = '';
    let argumentsText = '';
    let finishReason: string | null | undefined;
    for await (const chunk of await overHttp().chat.completions.create({ ...request, stream: true })) {
      for (const call of chunk.choices[0]?.delta?.tool_calls ?? []) {
        name += call.function?.name ?? '';
        argumentsText += call.function?.arguments ?? '';
      }
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
    }
    upstream.reset();
    expect({ name, arguments: JSON.parse(argumentsText), finishReason }).toEqual({
      name: 'lookup',
      arguments: { query: 'weather in Lisbon' },
      finishReason: 'tool_calls',
    });
  });
});
