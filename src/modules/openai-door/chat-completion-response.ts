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

/** A finished reply as a chat.completion object. */
export function completionOf(reply: Message) {
  return {
    id: completionId(reply),
    object: 'chat.completion',
    created: createdOf(reply),
    model: reply.modelId,
    system_fingerprint: null,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: reply.content, refusal: null, ...(reply.reasoning ? { reasoning_content: reply.reasoning } : {}) },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: usageOf(reply),
  };
}

/** The chat.completion.chunk objects of one streamed reply, all with its id, time and model. */
export function chunkMaker(reply: Pick<Message, 'id' | 'createdAt'>, model: string) {
  const base = { id: completionId(reply), object: 'chat.completion.chunk', created: createdOf(reply), model, system_fingerprint: null };
  const choice = (delta: Record<string, string>, finishReason: string | null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  });
  return {
    start: () => choice({ role: 'assistant', content: '' }, null),
    content: (text: string) => choice({ content: text }, null),
    reasoning: (text: string) => choice({ reasoning_content: text }, null),
    finish: () => choice({}, 'stop'),
    /** With stream_options.include_usage: a last chunk with no choices. */
    usage: (usage: ReturnType<typeof usageOf>) => ({ ...base, choices: [], usage }),
  };
}

export const modelEntry = (model: CatalogModel) => ({ id: model.id, object: 'model', created: 0, owned_by: model.vendor.toLowerCase() });
