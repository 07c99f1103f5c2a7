import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { countTokens, TOKENS_PER_MESSAGE } from '../../lib/tokens.js';
import type { CatalogModel } from '../catalog/catalog.types.js';
import { IMAGE_TOKENS } from '../files/files.service.js';

/** Tokens of one message as a model counts them: its text, its images (estimated), and the framing. */
export function messageTokens(message: ChatCompletionMessageParam, modelId: string): number {
  const content = message.content;
  const calls = 'tool_calls' in message ? (message.tool_calls ?? []) : [];
  const callTokens = calls.reduce((sum, call) => sum + ('function' in call ? countTokens(call.function.name + call.function.arguments, modelId) : 0), 0);
  if (typeof content === 'string') return countTokens(content, modelId) + TOKENS_PER_MESSAGE + callTokens;
  let total = TOKENS_PER_MESSAGE + callTokens;
  for (const part of content ?? []) total += 'text' in part ? countTokens(part.text, modelId) : part.type === 'image_url' ? IMAGE_TOKENS : 0;
  return total;
}

export function promptTokens(messages: ChatCompletionMessageParam[], modelId: string): number {
  return messages.reduce((sum, message) => sum + messageTokens(message, modelId), 0);
}

/** Output tokens a reply may produce: the model's limit, capped by the gateway's. */
export function outputBudgetOf(model: CatalogModel, maxOutputTokensPerReply: number): number {
  return Math.min(model.maxOutputTokens || maxOutputTokensPerReply, maxOutputTokensPerReply);
}

/** The input side of a reservation: our tokenizer approximates other vendors' counts, hence the margin. */
export function inputEstimate(messages: ChatCompletionMessageParam[], modelId: string): number {
  return Math.ceil(promptTokens(messages, modelId) * 1.1) + 16;
}

export interface ReservationPricing {
  costOf(model: CatalogModel, inputTokens: number, outputTokens: number): number;
  creditsFor(cost: number): number;
}

/** Credits to reserve for a reply: the worst case of its context and output budget. */
export function reservationFor(pricing: ReservationPricing, model: CatalogModel, messages: ChatCompletionMessageParam[], outputBudget: number): number {
  return pricing.creditsFor(pricing.costOf(model, inputEstimate(messages, model.id), outputBudget));
}
