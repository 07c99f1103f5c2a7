import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ToolCallData } from './message-events.js';

const isCall = (value: unknown): value is ToolCallData =>
  typeof value === 'object' && value !== null && typeof (value as ToolCallData).id === 'string' && typeof (value as ToolCallData).name === 'string';

/**
 * A stored reply that called tools, as the provider expects it in a later
 * context: per model call, the assistant message with its tool_calls and one
 * tool message per result, then the reply's text. Calls nobody answered are
 * left out (a provider refuses a call without a result). Null when the reply
 * called no tool that has a result.
 */
export function toolTurnMessages(content: string, storedCalls: unknown): ChatCompletionMessageParam[] | null {
  const calls = (Array.isArray(storedCalls) ? storedCalls : []).filter(isCall).filter((call) => typeof call.result === 'string');
  if (calls.length === 0) return null;
  const steps = [...new Set(calls.map((call) => call.step ?? 1))];
  // A reply whose last calls were the caller's ended waiting for them: its text came before them.
  const textFirst = calls.some((call) => (call.step ?? 1) === steps.at(-1) && call.server === false);
  const messages: ChatCompletionMessageParam[] = [];
  for (const step of steps) {
    const ofStep = calls.filter((call) => (call.step ?? 1) === step);
    messages.push({
      role: 'assistant',
      content: textFirst && step === steps.at(-1) && content ? content : null,
      tool_calls: ofStep.map((call) => ({ id: call.id, type: 'function' as const, function: { name: call.name, arguments: call.arguments } })),
    });
    for (const call of ofStep) messages.push({ role: 'tool', tool_call_id: call.id, content: call.result! });
  }
  if (content && !textFirst) messages.push({ role: 'assistant', content });
  return messages;
}
