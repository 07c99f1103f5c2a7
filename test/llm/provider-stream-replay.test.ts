import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createChunkReader, type ProviderEvent, type ProviderToolCall, type ProviderUsage } from '../../src/lib/llm/provider-stream.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';

// Recorded-style provider streams, replayed byte for byte over HTTP, read by
// the real openai SDK and then by the chunk reader.
let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(() => upstream?.close());

const fixture = (name: string) => readFileSync(new URL(`../fixtures/provider-streams/${name}.sse`, import.meta.url), 'utf8');
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

const usage = (inputTokens: number, outputTokens: number, reasoningTokens: number | null, cachedInputTokens: number | null): ProviderUsage => ({
  inputTokens,
  outputTokens,
  reasoningTokens,
  cachedInputTokens,
});

interface Expected {
  text: string;
  reasoning?: string;
  toolCalls?: ProviderToolCall[];
  finish: string | null;
  usage?: ProviderUsage;
}

const cases: Record<string, Expected> = {
  'openai-usage': { text: 'The capital of France is Paris.', finish: 'stop', usage: usage(1523, 213, 192, 1408) },
  'deepseek-reasoning': {
    reasoning: 'The user wants 17 × 24. 17 × 20 = 340, 17 × 4 = 68, so 408.',
    text: '17 × 24 = **408**.',
    finish: 'stop',
    usage: usage(14, 96, 81, 0),
  },
  'groq-reasoning': {
    reasoning: 'We need to count the r letters in "strawberry": three.',
    text: 'There are **3** r’s in “strawberry”.',
    finish: 'stop',
    usage: usage(84, 58, null, null),
  },
  'openrouter-reasoning': {
    reasoning: 'The user asks which is larger, 9.11 or 9.9. Compare tenths: 9 > 1, so 9.9 is larger.',
    text: '9.9 is larger than 9.11.',
    finish: 'stop',
    usage: usage(41, 77, 52, 0),
  },
  'mistral-thinking-parts': {
    reasoning: 'Okay, the train covers 120 km in the first hour, leaving 345 km at 270 km/h combined → about 1.28 h.',
    text: 'They meet at about 11:17.',
    finish: 'stop',
    usage: usage(62, 109, null, null),
  },
  'azure-content-filter': {
    text: 'Sure! Here is a haiku:\n\nAutumn moonlight—\na worm digs silently\ninto the chestnut.',
    finish: 'stop',
    usage: usage(27, 24, 0, 0),
  },
  'ollama-parallel-tool-calls-same-index': {
    text: '',
    toolCalls: [
      { id: 'call_t4bqk2xz', name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' },
      { id: 'call_9mhw1o6e', name: 'get_weather', arguments: '{"city":"Tokyo","unit":"celsius"}' },
    ],
    finish: 'tool_calls',
    usage: usage(182, 61, null, null),
  },
  'gemini-tool-call-no-index': {
    text: '',
    toolCalls: [
      { id: 'function-call-1189271512836917441', name: 'get_weather', arguments: '{"location":"Sydney"}' },
      { id: 'function-call-5532017749203151862', name: 'get_weather', arguments: '{"location":"Melbourne"}' },
    ],
    finish: 'stop',
    usage: usage(71, 38, null, null),
  },
  'databricks-usage-every-chunk': {
    text: "I'll run both `ls` commands in a single turn.",
    toolCalls: [
      { id: 'toolu_bdrk_01RMTd7R9DzQjEEWgDwzcBsU', name: 'developer__shell', arguments: '{"command": "ls"}' },
      { id: 'toolu_bdrk_016bgVTGZdpjP8ehjMWp9cWW', name: 'developer__shell', arguments: '{"command": "ls working_dir"}' },
    ],
    finish: 'tool_calls',
    usage: usage(4982, 122, null, null),
  },
  'moonshot-choice-usage': { reasoning: '用户想要一句问候。', text: '你好！有什么可以帮你？', finish: 'stop', usage: usage(2989, 57, null, 2944) },
  'synthetic-nul-and-surrogates': {
    reasoning: 'thinking 🤔',
    text: 'Nullbyte, lone \ufffd half, emoji 😀 done',
    toolCalls: [{ id: 'call_nul', name: 'note', arguments: '{"text":"ab\ufffd"}' }],
    finish: 'tool_calls',
  },
};

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

  test('delayMs spaces the data events', async () => {
    const events = fixture('deepseek-reasoning').match(/^data:/gm)!.length;
    const startedAt = performance.now();
    const { events: read } = await replay('deepseek-reasoning', 15);
    expect(summary(read).text).toBe(cases['deepseek-reasoning']!.text);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(events * 15 * 0.8);
  });
});
