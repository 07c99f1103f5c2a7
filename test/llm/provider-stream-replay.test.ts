import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createChunkReader, type ProviderEvent } from '../../src/lib/llm/provider-stream.js';
import { cases, fixture } from '../fixtures/provider-streams/expected.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';

// Recorded-style provider streams, replayed byte for byte over HTTP, read by
// the real openai SDK and then by the chunk reader.
let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(() => upstream?.close());

const client = () => new OpenAI({ baseURL: upstream.url, apiKey: 'x', maxRetries: 0 });

async function replay(name: string, delayMs?: number) {
  upstream.behave({ replay: fixture(name), delayMs });
  const stream = await client().chat.completions.create({
    model: 'any',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const reader = createChunkReader();
  const events: ProviderEvent[] = [];
  for await (const chunk of stream) events.push(...reader.read(chunk));
  events.push(...reader.end());
  return { events, usage: reader.usage() };
}

function summary(events: ProviderEvent[]) {
  const of = (type: 'text' | 'reasoning') => events.map((event) => (event.type === type ? event.delta : '')).join('');
  return {
    text: of('text'),
    reasoning: of('reasoning'),
    toolCalls: events.flatMap((event) => (event.type === 'tool-call' ? [event.call] : [])),
    finishes: events.flatMap((event) => (event.type === 'finish' ? [event.reason] : [])),
  };
}

const wellFormed = (text: string) => (text as string & { isWellFormed(): boolean }).isWellFormed() && !text.includes('\0');

describe.each(Object.entries(cases))('%s', (name, expected) => {
  test('text, reasoning, tool calls, finish and usage', async () => {
    const { events, usage: merged } = await replay(name);
    expect(summary(events)).toEqual({
      text: expected.text,
      reasoning: expected.reasoning ?? '',
      toolCalls: expected.toolCalls ?? [],
      finishes: [expected.finish],
    });
    expect(merged).toEqual(expected.usage);
    const lastUsage = events.findLast((event) => event.type === 'usage');
    expect(lastUsage && lastUsage.type === 'usage' ? lastUsage.usage : undefined).toEqual(expected.usage);
  });

  test('every emitted string is valid text; tool calls come whole, before the finish', async () => {
    const { events } = await replay(name);
    for (const event of events) {
      if (event.type === 'text' || event.type === 'reasoning') expect(wellFormed(event.delta)).toBe(true);
      if (event.type === 'tool-call') expect(Object.values(event.call).every(wellFormed)).toBe(true);
    }
    const finishAt = events.findIndex((event) => event.type === 'finish');
    expect(events.findLastIndex((event) => event.type === 'tool-call')).toBeLessThan(finishAt);
    expect(events.some((event) => event.type === 'tool-call-progress')).toBe((expected.toolCalls ?? []).length > 0);
  });
});

describe('the replay behaviour', () => {
  test('answers with exactly the recorded bytes, as an event stream', async () => {
    const body = fixture('openrouter-reasoning');
    upstream.behave({ replay: body });
    const response = await fetch(`${upstream.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'any', stream: true, messages: [] }),
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(await response.text()).toBe(body);
  });
});
