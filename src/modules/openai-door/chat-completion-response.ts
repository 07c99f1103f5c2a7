import type { Message } from '../../generated/prisma/client.js';
import type { CatalogModel } from '../catalog/catalog.types.js';

/** OpenAI's token usage of a finished reply. */
export function usageOf(reply: Message) {
  const prompt = reply.inputTokens ?? 0;
  const completion = reply.outputTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: reply.cachedInputTokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: reply.reasoningTokens ?? 0 },
  };
}

export const completionId = (reply: Pick<Message, 'id'>) => `chatcmpl-${reply.id}`;
const createdOf = (reply: Pick<Message, 'createdAt'>) => Math.floor(reply.createdAt.getTime() / 1000);

type StoredCall = { id: string; name: string; arguments: string; server?: boolean; result?: string | null };

/** The calls of a reply that waits for the caller: its client functions without a result. */
export function pendingCallsOf(reply: Pick<Message, 'status' | 'toolCalls'>) {
  if (reply.status !== 'REQUIRES_ACTION' || !Array.isArray(reply.toolCalls)) return [];
  return (reply.toolCalls as unknown as StoredCall[]).filter((call) => !call.server && (call.result === null || call.result === undefined));
}

const wireCall = (call: StoredCall) => ({ id: call.id, type: 'function' as const, function: { name: call.name, arguments: call.arguments } });

/** A finished reply as a chat.completion object; one that calls the caller's functions finishes with tool_calls. */
export function completionOf(reply: Message) {
  const calls = pendingCallsOf(reply);
  return {
    id: completionId(reply),
    object: 'chat.completion',
    created: createdOf(reply),
    model: reply.modelId,
    system_fingerprint: null,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: calls.length && !reply.content ? null : reply.content,
          refusal: null,
          ...(calls.length ? { tool_calls: calls.map(wireCall) } : {}),
          ...(reply.reasoning ? { reasoning_content: reply.reasoning } : {}),
        },
        logprobs: null,
        finish_reason: calls.length ? 'tool_calls' : 'stop',
      },
    ],
    usage: usageOf(reply),
  };
}

/** The chat.completion.chunk objects of one streamed reply, all with its id, time and model. */
export function chunkMaker(reply: Pick<Message, 'id' | 'createdAt'>, model: string) {
  const base = { id: completionId(reply), object: 'chat.completion.chunk', created: createdOf(reply), model, system_fingerprint: null };
  const choice = (delta: Record<string, unknown>, finishReason: string | null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  });
  return {
    start: () => choice({ role: 'assistant', content: '' }, null),
    content: (text: string) => choice({ content: text }, null),
    reasoning: (text: string) => choice({ reasoning_content: text }, null),
    toolCall: (call: StoredCall, index: number) => choice({ tool_calls: [{ index, ...wireCall(call) }] }, null),
    finish: (reason: 'stop' | 'tool_calls') => choice({}, reason),
    /** With stream_options.include_usage: a last chunk with no choices. */
    usage: (usage: ReturnType<typeof usageOf>) => ({ ...base, choices: [], usage }),
  };
}

export const modelEntry = (model: CatalogModel) => ({ id: model.id, object: 'model', created: 0, owned_by: model.vendor.toLowerCase() });
