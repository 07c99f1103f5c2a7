import type { Tier } from '../../generated/prisma/enums.js';
import { badInput, UserFacingError } from '../../lib/errors.js';
import type { ProviderRegistry } from '../../lib/llm/provider-registry.js';
import { tierAtLeast } from '../identity/tiers.js';
import type { CatalogModel } from './catalog.types.js';

export { tierAtLeast };

export function createCatalogService(registry: ProviderRegistry) {
  const byId = new Map(registry.catalog.map((model) => [model.id, model]));

  function isAvailable(model: CatalogModel, tier: Tier): boolean {
    return model.enabled && registry.isConfigured(model.provider) && tierAtLeast(tier, model.minTier);
  }

  return {
    all: () => registry.catalog,
    find: (id: string) => byId.get(id),
    defaultModelId: registry.defaultModelId,
    isAvailable,
    /** The model a chat may use, or the error that explains why not. */
    requireChatModel(id: string, tier: Tier): CatalogModel {
      const model = byId.get(id);
      if (!model || !model.enabled || ['embedding', 'realtime', 'image-output'].some((modality) => model.modalities.includes(modality)))
        throw badInput('input.unknownModel', { model: id });
      if (!tierAtLeast(tier, model.minTier)) {
        throw new UserFacingError('MODEL_NOT_ALLOWED', 'model.notAllowed', { model: id, tier: model.minTier }, { requiredTier: model.minTier });
      }
      if (!registry.isConfigured(model.provider)) throw new UserFacingError('PROVIDER_UNAVAILABLE', 'provider.unavailable', { model: id });
      return model;
    },
    /** The image model a caller may use, or the error that explains why not; the first configured one when none is named. */
    requireImageModel(id: string | null | undefined, tier: Tier): CatalogModel {
      const chosen =
        id ?? registry.catalog.find((model) => model.modalities.includes('image-output') && registry.isConfigured(model.provider))?.id ?? 'demo-image';
      const model = byId.get(chosen);
      if (!model || !model.enabled || !model.modalities.includes('image-output')) throw badInput('input.unknownModel', { model: chosen });
      if (!tierAtLeast(tier, model.minTier)) {
        throw new UserFacingError('MODEL_NOT_ALLOWED', 'model.notAllowed', { model: chosen, tier: model.minTier }, { requiredTier: model.minTier });
      }
      if (!registry.isConfigured(model.provider)) throw new UserFacingError('PROVIDER_UNAVAILABLE', 'provider.unavailable', { model: chosen });
      return model;
    },
    costOf(model: CatalogModel, inputTokens: number, outputTokens: number): number {
      return ((model.inputPrice ?? 0) * inputTokens + (model.outputPrice ?? 0) * outputTokens) / 1_000_000;
    },
  };
}

export type CatalogService = ReturnType<typeof createCatalogService>;

export interface ModelFilter {
  pattern?: string | null;
  vendor?: string | null;
  modality?: string | null;
  includeDisabled?: boolean | null;
}

/** A pattern is a case-insensitive substring of the id or display name, or a glob with `*` and `?`. */
function matchesPattern(model: CatalogModel, pattern: string): boolean {
  const needle = pattern.toLowerCase();
  const haystacks = [model.id.toLowerCase(), model.displayName.toLowerCase()];
  if (!/[*?]/.test(needle)) return haystacks.some((text) => text.includes(needle));
  const glob = new RegExp(
    `^${needle
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return haystacks.some((text) => glob.test(text));
}

export function filterModels(models: CatalogModel[], filter: ModelFilter | null | undefined): CatalogModel[] {
  return models.filter(
    (model) =>
      (filter?.includeDisabled || model.enabled) &&
      (!filter?.pattern || matchesPattern(model, filter.pattern)) &&
      (!filter?.vendor || model.vendor.toLowerCase() === filter.vendor.toLowerCase()) &&
      (!filter?.modality || model.modalities.includes(filter.modality.toLowerCase())),
  );
}

/** Counts by a key, most first, then by name. */
export function countBy(models: CatalogModel[], keys: (model: CatalogModel) => string[]): Array<{ name: string; modelCount: number }> {
  const counts = new Map<string, number>();
  for (const model of models) for (const key of keys(model)) counts.set(key, (counts.get(key) ?? 0) + 1);
  return [...counts].map(([name, modelCount]) => ({ name, modelCount })).sort((a, b) => b.modelCount - a.modelCount || a.name.localeCompare(b.name));
}
