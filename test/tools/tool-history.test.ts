import { describe, expect, test } from 'vitest';
import { toolTurnMessages } from '../../src/modules/chat/tool-history.js';
import { validArguments } from '../../src/modules/chat/tool-loop.js';

describe('tool call arguments', () => {
  test('are always valid JSON: none is an empty object, garbled text a JSON string', () => {
    expect(validArguments('')).toBe('{}');
    expect(validArguments('{"city":"Lisbon"}')).toBe('{"city":"Lisbon"}');
    expect(JSON.parse(validArguments('{"city":"Lis'))).toBe('{"city":"Lis');
  });
});

describe('a stored reply with tool calls, as a later context', () => {
  const call = (id: string, step: number, server: boolean, result: string | null) => ({ id, name: `tool_${id}`, arguments: '{}', step, server, result });

  test('server steps come before the answer, one assistant message per step', () => {
    const messages = toolTurnMessages('The answer.', [call('a', 1, true, 'A'), call('b', 1, true, 'B'), call('c', 2, true, 'C')]);
    expect(messages?.map((message) => message.role)).toEqual(['assistant', 'tool', 'tool', 'assistant', 'tool', 'assistant']);
    expect(messages?.at(-1)).toEqual({ role: 'assistant', content: 'The answer.' });
  });

  test('a reply that waited for the caller said its text before its calls; unanswered calls are left out', () => {
    const messages = toolTurnMessages('Let me look.', [call('a', 1, false, 'sunny'), call('b', 1, false, null)]);
    expect(messages).toEqual([
      { role: 'assistant', content: 'Let me look.', tool_calls: [{ id: 'a', type: 'function', function: { name: 'tool_a', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'a', content: 'sunny' },
    ]);
    expect(toolTurnMessages('text', [call('b', 1, false, null)])).toBeNull();
  });
});
