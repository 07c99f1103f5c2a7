import type { ProviderRegistry } from '../../lib/llm/provider-registry.js';
import type { CatalogService } from '../catalog/catalog.service.js';
import type { CatalogModel } from '../catalog/catalog.types.js';
import type { Actor } from '../identity/actor.js';
import type { UsageService } from '../usage/usage.service.js';

export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let index = 0; index < Math.min(a.length, b.length); index += 1) {
    dot += a[index]! * b[index]!;
    normA += a[index]! ** 2;
    normB += b[index]! ** 2;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

/** Vectors from the configured embedding model, through its provider's embeddings endpoint; metered as usage. */
export function createEmbeddingsService(registry: ProviderRegistry, catalog: CatalogService, usage: UsageService, modelId: string | undefined) {
  const model: CatalogModel | undefined = modelId ? catalog.find(modelId) : undefined;
  const client = model ? registry.clientFor(model.provider) : undefined;

  return {
    /** Whether meaning-based ranking is possible; otherwise callers fall back to full-text search. */
    available: Boolean(model && client),
    modelId: model?.id ?? null,

    /**
     * `dimensions` asks for vectors of that length (OpenAI's text-embedding-3 models and the demo shorten them);
     * `unmetered` records no usage (re-embedding texts their owner already paid for).
     */
    async embed(
      actor: Pick<Actor, 'userId' | 'billedUserId' | 'apiKeyId'>,
      texts: string[],
      options: { action?: 'EMBEDDING' | 'INDEXING'; dimensions?: number; unmetered?: boolean } = {},
    ): Promise<number[][] | null> {
      if (!model || !client || texts.length === 0) return null;
      const action = options.action ?? 'EMBEDDING';
      const startedAt = Date.now();
      try {
        const response = await client.embeddings.create({
          model: model.id,
          input: texts.map((text) => text.slice(0, 8_000)),
          ...(options.dimensions ? { dimensions: options.dimensions } : {}),
        });
        const tokens = response.usage?.prompt_tokens ?? 0;
        if (!options.unmetered)
          await usage.record({
            actor,
            modelId: model.id,
            action,
            inputTokens: tokens,
            cost: catalog.costOf(model, tokens, 0),
            success: true,
            latencyMs: Date.now() - startedAt,
          });
        return response.data.sort((a, b) => a.index - b.index).map((item) => item.embedding);
      } catch (error) {
        if (!options.unmetered) await usage.record({ actor, modelId: model.id, action, cost: 0, success: false, latencyMs: Date.now() - startedAt });
        throw error;
      }
    },
  };
}

export type EmbeddingsService = ReturnType<typeof createEmbeddingsService>;
