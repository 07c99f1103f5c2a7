import { describe, expect, test } from 'vitest';
import { createChunkReader, type ProviderEvent } from '../../src/lib/llm/provider-stream.js';
import { createTextStream, toValidText, truncated } from '../../src/lib/text.js';

function readAll(chunks: unknown[]): ProviderEvent[] {
  const reader = createChunkReader();
  return [...chunks.flatMap((chunk) => reader.read(chunk)), ...reader.end()];
}

const joined = (events: ProviderEvent[], type: 'text' | 'reasoning') => events.map((event) => (event.type === type ? event.delta : '')).join('');
const callsOf = (events: ProviderEvent[]) => events.flatMap((event) => (event.type === 'tool-call' ? [event.call] : []));
const finishesOf = (events: ProviderEvent[]) => events.flatMap((event) => (event.type === 'finish' ? [event.reason] : []));

const delta = (value: object, finish_reason: string | null = null, extra: object = {}) => ({
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta: value, finish_reason }],
  ...extra,
});
const call = (fragment: object) => delta({ tool_calls: [fragment] });

describe('toValidText', () => {
  test('drops U+0000 and replaces lone surrogates', () => {
    expect(toValidText('a\u0000b')).toBe('ab');
    expect(toValidText('x\ud800y')).toBe('x\ufffdy');
    expect(toValidText('x\ude00')).toBe('x\ufffd');
    expect(toValidText('ok 😀')).toBe('ok 😀');
  });

  test('a NUL between two halves does not join them into a pair', () => {
    expect(toValidText('\ud83d\u0000\ude00')).toBe('\ufffd\ufffd');
  });
});

describe('createTextStream', () => {
  test('rejoins a surrogate pair split across two pieces', () => {
    const stream = createTextStream();
    expect(stream.push('hi \ud83d')).toBe('hi ');
    expect(stream.push('\ude00!')).toBe('😀!');
    expect(stream.flush()).toBe('');
  });

  test('a held high surrogate with no partner becomes U+FFFD', () => {
    const stream = createTextStream();
    expect(stream.push('a\ud83d')).toBe('a');
    expect(stream.push('b')).toBe('\ufffdb');
    expect(stream.push('c\ud83d')).toBe('c');
    expect(stream.flush()).toBe('\ufffd');
  });
});

describe('truncated', () => {
  test('keeps short text whole and never leaves half of a surrogate pair at the cut', () => {
    expect(truncated('abc', 5)).toBe('abc');
    expect(truncated('abcdef', 3)).toBe('abc');
    expect(truncated('ab😀cd', 3)).toBe('ab');
    expect(truncated('ab😀cd', 4)).toBe('ab😀');
  });
});

describe('text and reasoning', () => {
  test('reasoning_content then content; null and empty fields give nothing', () => {
    const events = readAll([
      delta({ role: 'assistant', content: null, reasoning_content: '' }),
      delta({ content: null, reasoning_content: 'Think' }),
      delta({ content: 'Answer', reasoning_content: null }),
      delta({ content: '' }, 'stop'),
    ]);
    expect(events).toEqual([
      { type: 'reasoning', delta: 'Think' },
      { type: 'text', delta: 'Answer' },
      { type: 'finish', reason: 'stop' },
    ]);
  });

  test('delta.reasoning, and reasoning_details only when neither field has text', () => {
    const events = readAll([
      delta({ reasoning: 'a', reasoning_details: [{ type: 'reasoning.text', text: 'a' }] }),
      delta({ reasoning: null, reasoning_details: [{ type: 'reasoning.summary', summary: 'b' }] }),
      delta({
        reasoning_details: [
          { type: 'reasoning.encrypted', data: 'gAAA' },
          { type: 'reasoning.text', signature: 'sig' },
        ],
      }),
      delta({ reasoning_content: 'c', reasoning: 'c' }),
    ]);
    expect(joined(events, 'reasoning')).toBe('abc');
  });

  test('content parts: text parts are text, thinking parts are reasoning, never [object Object]', () => {
    const events = readAll([
      delta({ content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'hmm' }] }] }),
      delta({
        content: [
          { type: 'thinking', thinking: [{ type: 'text', text: '.' }] },
          { type: 'text', text: 'Hi' },
        ],
      }),
      delta({
        content: [
          { type: 'reference', reference_ids: [1] },
          { type: 'image_url', image_url: { url: 'x' } },
        ],
      }),
      delta({ content: ' there' }, 'stop'),
    ]);
    expect(joined(events, 'reasoning')).toBe('hmm.');
    expect(joined(events, 'text')).toBe('Hi there');
    expect(JSON.stringify(events)).not.toContain('[object Object]');
  });

  test('a refusal reads as text', () => {
    expect(joined(readAll([delta({ content: null, refusal: "I can't help with that." })]), 'text')).toBe("I can't help with that.");
  });

  test('NUL is dropped and lone surrogates replaced; a pair split across chunks is rejoined per channel', () => {
    const events = readAll([
      delta({ content: 'a\u0000b \ud800 ' }),
      delta({ reasoning_content: 'r\ud83d' }),
      delta({ content: 'x\ud83d' }),
      delta({ reasoning_content: '\ude00' }),
      delta({ content: '\ude00 y\ud83d' }),
    ]);
    expect(joined(events, 'text')).toBe('ab \ufffd x😀 y\ufffd');
    expect(joined(events, 'reasoning')).toBe('r😀');
  });

  test('held text is flushed before finish', () => {
    const events = readAll([delta({ content: 'end\ud83d' }), delta({}, 'length')]);
    expect(events).toEqual([
      { type: 'text', delta: 'end' },
      { type: 'text', delta: '\ufffd' },
      { type: 'finish', reason: 'length' },
    ]);
  });

  test('only the first choice is read; chunks without choices or without delta are fine', () => {
    const events = readAll([
      { choices: [], prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }] },
      { id: 'x' },
      { choices: [{ index: 0, finish_reason: null, content_filter_offsets: { check_offset: 4 } }] },
      {
        choices: [
          { index: 1, delta: { content: 'other' } },
          { index: 0, delta: { content: 'mine' } },
        ],
      },
      'not a chunk',
      null,
    ]);
    expect(joined(events, 'text')).toBe('mine');
  });
});

describe('tool calls', () => {
  test('arguments and name in pieces, emitted whole at finish', () => {
    const events = readAll([
      call({ index: 0, id: 'call_1', type: 'function', function: { name: 'get_', arguments: '' } }),
      call({ index: 0, function: { name: 'weather' } }),
      call({ index: 0, function: { arguments: '{"city":' } }),
      call({ index: 0, function: { arguments: '"Paris"}' } }),
      delta({}, 'tool_calls'),
    ]);
    expect(events.filter((event) => event.type === 'tool-call-progress')).toHaveLength(4);
    expect(events.slice(-2)).toEqual([
      { type: 'tool-call', call: { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  test('two calls at the same index are told apart by id', () => {
    const events = readAll([
      call({ index: 0, id: 'call_a', function: { name: 'get_weather', arguments: '{"city":' } }),
      call({ index: 0, function: { arguments: '"Paris"}' } }),
      call({ index: 0, id: 'call_b', function: { name: 'get_time', arguments: '' } }),
      call({ index: 0, function: { arguments: '{"tz":"CET"}' } }),
      delta({}, 'tool_calls'),
    ]);
    expect(callsOf(events)).toEqual([
      { id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { id: 'call_b', name: 'get_time', arguments: '{"tz":"CET"}' },
    ]);
  });

  test('without index: a new id opens a call, no id continues the last; an empty id is no id', () => {
    const events = readAll([
      call({ id: 'fc-1', type: 'function', function: { name: 'search', arguments: '{"q":' } }),
      call({ id: '', type: '', function: { arguments: '"tea"}' } }),
      call({ extra_content: { google: { thought_signature: 'c2ln' } } }),
      call({ id: 'fc-2', type: 'function', function: { name: 'search', arguments: '{"q":"milk"}' } }),
      delta({}, 'stop'),
    ]);
    expect(callsOf(events)).toEqual([
      { id: 'fc-1', name: 'search', arguments: '{"q":"tea"}' },
      { id: 'fc-2', name: 'search', arguments: '{"q":"milk"}' },
    ]);
  });

  test('calls without index or id: a name after complete arguments opens another call; ids are made up', () => {
    const events = readAll([
      call({ type: 'function', function: { name: 'lookup', arguments: '{"a":1}' } }),
      call({ type: 'function', function: { name: 'lookup', arguments: '{"a":2}' } }),
      call({ type: 'function', function: { name: 'other', arguments: '{}' } }),
    ]);
    expect(callsOf(events)).toEqual([
      { id: 'call_0', name: 'lookup', arguments: '{"a":1}' },
      { id: 'call_1', name: 'lookup', arguments: '{"a":2}' },
      { id: 'call_2', name: 'other', arguments: '{}' },
    ]);
    expect(finishesOf(events)).toEqual([null]);
  });

  test('a name repeated on every fragment is kept once', () => {
    const events = readAll([
      call({ index: 0, id: 'call_r', function: { name: 'search', arguments: '{"q":' } }),
      call({ index: 0, function: { name: 'search', arguments: '"tea"}' } }),
    ]);
    expect(callsOf(events)).toEqual([{ id: 'call_r', name: 'search', arguments: '{"q":"tea"}' }]);
  });

  test('a different id on a continuation fragment (no name) stays in the same call', () => {
    const events = readAll([
      call({ index: 0, id: 'call_x1', function: { name: 'f', arguments: '{"a"' } }),
      call({ index: 0, id: 'call_x2', function: { arguments: ':1}' } }),
    ]);
    expect(callsOf(events)).toEqual([{ id: 'call_x1', name: 'f', arguments: '{"a":1}' }]);
  });

  test('an empty tool_calls list is no progress; each call is emitted exactly once, in first-seen order', () => {
    const reader = createChunkReader();
    expect(reader.read(delta({ content: 'x', tool_calls: [] }))).toEqual([{ type: 'text', delta: 'x' }]);
    reader.read(call({ index: 1, id: 'b', function: { name: 'second', arguments: '{}' } }));
    reader.read(call({ index: 0, id: 'a', function: { name: 'first', arguments: '{}' } }));
    const atFinish = reader.read(delta({}, 'tool_calls'));
    expect(callsOf(atFinish).map((c) => c.id)).toEqual(['b', 'a']);
    reader.read(delta({}, 'tool_calls'));
    expect(reader.end()).toEqual([]);
    expect(reader.end()).toEqual([]);
  });

  test('calls still open at end are emitted by end(), with a null finish', () => {
    const reader = createChunkReader();
    reader.read(call({ index: 0, id: 'c', function: { name: 'f', arguments: '{"s":"a\u0000b\ud800"}' } }));
    expect(reader.end()).toEqual([
      { type: 'tool-call', call: { id: 'c', name: 'f', arguments: '{"s":"ab\ufffd"}' } },
      { type: 'finish', reason: null },
    ]);
  });
});

describe('usage', () => {
  test('none ever: usage() is undefined and no usage event', () => {
    const reader = createChunkReader();
    expect(reader.read({ ...delta({ content: 'a' }), usage: null })).toEqual([{ type: 'text', delta: 'a' }]);
    expect(reader.usage()).toBeUndefined();
  });

  test('the final usage-only chunk with details', () => {
    const reader = createChunkReader();
    const events = reader.read({
      choices: [],
      usage: {
        prompt_tokens: 100,
        completion_tokens: 50,
        total_tokens: 150,
        prompt_tokens_details: { cached_tokens: 64 },
        completion_tokens_details: { reasoning_tokens: 30 },
      },
    });
    const usage = { inputTokens: 100, outputTokens: 50, reasoningTokens: 30, cachedInputTokens: 64 };
    expect(events).toEqual([{ type: 'usage', usage }]);
    expect(reader.usage()).toEqual(usage);
  });

  test('usage on every chunk with completion_tokens null until the last keeps the latest non-null values', () => {
    const reader = createChunkReader();
    const first = reader.read({ ...delta({ content: 'a' }), usage: { prompt_tokens: 10, completion_tokens: null, total_tokens: null } });
    expect(first.at(-1)).toEqual({ type: 'usage', usage: { inputTokens: 10, outputTokens: null, reasoningTokens: null, cachedInputTokens: null } });
    reader.read({ ...delta({}, 'stop'), usage: { prompt_tokens: null, completion_tokens: 7 } });
    expect(reader.usage()).toEqual({ inputTokens: 10, outputTokens: 7, reasoningTokens: null, cachedInputTokens: null });
  });

  test("Groq's x_groq.usage, Kimi's usage inside the choice, a chunk without choices", () => {
    const groq = createChunkReader();
    groq.read({ ...delta({}, 'stop'), x_groq: { id: 'req_1', usage: { prompt_tokens: 5, completion_tokens: 3, queue_time: 0.01 } } });
    expect(groq.usage()).toMatchObject({ inputTokens: 5, outputTokens: 3 });

    const kimi = createChunkReader();
    kimi.read({ choices: [{ index: 0, delta: {}, finish_reason: 'stop', usage: { prompt_tokens: 9, completion_tokens: 4, cached_tokens: 8 } }] });
    expect(kimi.usage()).toEqual({ inputTokens: 9, outputTokens: 4, reasoningTokens: null, cachedInputTokens: 8 });

    const bare = createChunkReader();
    bare.read({ usage: { prompt_tokens: 18, completion_tokens: null, total_tokens: 31 } });
    expect(bare.usage()).toMatchObject({ inputTokens: 18, outputTokens: null });
  });

  test('the finish event comes once, even if finish_reason repeats', () => {
    const events = readAll([delta({ content: 'a' }, 'stop'), { ...delta({}, 'stop'), usage: { prompt_tokens: 1, completion_tokens: 1 } }]);
    expect(finishesOf(events)).toEqual(['stop']);
    expect(events.at(-1)?.type).toBe('usage');
  });
});
