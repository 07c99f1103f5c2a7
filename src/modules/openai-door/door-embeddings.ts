import { badInput, UserFacingError } from '../../lib/errors.js';
import type { Services } from '../../services.js';
import type { Actor } from '../identity/actor.js';
import { tierAtLeast } from '../identity/tiers.js';

const invalidInput = () => badInput('openai.invalid', { param: 'input' }, { param: 'input' });

function textsOf(input: unknown): string[] {
  const texts = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(texts) || texts.length === 0 || texts.length > 2_048) throw invalidInput();
  // Token arrays are not taken: the gateway counts and meters text.
  if (!texts.every((text) => typeof text === 'string' && text.length > 0)) throw invalidInput();
  return texts as string[];
}

const base64Of = (vector: number[]) => Buffer.from(new Float32Array(vector).buffer).toString('base64');

/** POST /v1/embeddings: through the model's provider, counted against the caller's rate limits and metered as usage. */
export function createDoorEmbeddings(services: Services) {
  const { catalog } = services;

  function modelFor(actor: Actor, id: unknown) {
    if (typeof id !== 'string' || id.length === 0) throw badInput('openai.required', { param: 'model' }, { param: 'model' });
    const model = catalog.find(id);
    if (!model?.enabled || !model.modalities.includes('embedding')) throw badInput('input.unknownModel', { model: id });
    if (!tierAtLeast(actor.tier, model.minTier)) {
      throw new UserFacingError('MODEL_NOT_ALLOWED', 'model.notAllowed', { model: id, tier: model.minTier }, { requiredTier: model.minTier });
    }
    const client = services.registry.clientFor(model.provider);
    if (!client) throw new UserFacingError('PROVIDER_UNAVAILABLE', 'provider.unavailable', { model: id });
    return { model, client };
  }

  async function embed(actor: Actor, body: unknown) {
    if (typeof body !== 'object' || body === null) throw badInput('openai.badJson');
    const request = body as Record<string, unknown>;
    const { model, client } = modelFor(actor, request.model);
    const texts = textsOf(request.input);
    const format = request.encoding_format ?? 'float';
    if (format !== 'float' && format !== 'base64') throw badInput('openai.invalid', { param: 'encoding_format' }, { param: 'encoding_format' });
    await services.limits.consumeChatRequest({ userId: actor.billedUserId, tier: actor.tier, isGuest: actor.isGuest, freeMessagesUsed: 0 });
    const startedAt = Date.now();
    let response: Awaited<ReturnType<typeof client.embeddings.create>>;
    try {
      response = await client.embeddings.create({
        model: model.id,
        input: texts,
        ...(typeof request.dimensions === 'number' ? { dimensions: request.dimensions } : {}),
      });
    } catch (error) {
      await services.usage.record({ actor, modelId: model.id, action: 'EMBEDDING', cost: 0, success: false, latencyMs: Date.now() - startedAt });
      throw new UserFacingError('PROVIDER_ERROR', 'provider.error', { detail: error instanceof Error ? error.message.slice(0, 200) : 'unknown' });
    }
    const tokens = response.usage?.prompt_tokens ?? 0;
    await services.usage.record({
      actor,
      modelId: model.id,
      action: 'EMBEDDING',
      inputTokens: tokens,
      cost: catalog.costOf(model, tokens, 0),
      success: true,
      latencyMs: Date.now() - startedAt,
    });
    return {
      object: 'list',
      model: model.id,
      data: [...response.data]
        .sort((a, b) => a.index - b.index)
        .map((item) => ({ object: 'embedding', index: item.index, embedding: format === 'base64' ? base64Of(item.embedding) : item.embedding })),
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  }

  return { embed };
}
