import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { badInput, UserFacingError } from '../../lib/errors.js';
import { providerFailure } from '../../lib/llm/provider-errors.js';
import type { ProviderRegistry } from '../../lib/llm/provider-registry.js';
import type { CatalogService } from '../catalog/catalog.service.js';
import type { CreditsService } from '../credits/credits.service.js';
import type { Actor } from '../identity/actor.js';
import { tierAtLeast } from '../identity/tiers.js';
import type { UsageService } from '../usage/usage.service.js';

/** How long a key stays usable for opening a session. */
const KEY_TTL_SECONDS = 600;

/**
 * Short-lived client secrets for realtime (audio) sessions, minted by the
 * model's provider. The fixed price is held before the provider is called and
 * handed back if it fails, so only a key that was issued costs anything.
 */
export function createEphemeralKeysService(deps: {
  prisma: PrismaClient;
  registry: ProviderRegistry;
  catalog: CatalogService;
  credits: CreditsService;
  usage: UsageService;
  creditCost: number;
}) {
  const realtimeModels = () =>
    deps.catalog.all().filter((model) => model.enabled && model.modalities.includes('realtime') && deps.registry.isConfigured(model.provider));

  function requireModel(actor: Actor, modelId: string | null | undefined) {
    const candidates = realtimeModels();
    // Without a choice: a real provider's model before the demo's.
    const model = modelId
      ? candidates.find((candidate) => candidate.id === modelId)
      : (candidates.find((candidate) => candidate.provider !== 'demo') ?? candidates[0]);
    if (!model) throw badInput('realtime.unknownModel', { model: modelId ?? '' });
    if (!tierAtLeast(actor.tier, model.minTier)) {
      throw new UserFacingError('MODEL_NOT_ALLOWED', 'model.notAllowed', { model: model.id, tier: model.minTier }, { requiredTier: model.minTier });
    }
    return model;
  }

  return {
    async create(actor: Actor, modelId?: string | null) {
      const model = requireModel(actor, modelId);
      const client = deps.registry.clientFor(model.provider)!;
      const reference = `ephemeral:${randomUUID()}`;
      await deps.credits.reserve(deps.prisma, actor.billedUserId, deps.creditCost, reference, 'charge');
      const startedAt = Date.now();
      try {
        const secret = await client.realtime.clientSecrets.create({
          expires_after: { anchor: 'created_at', seconds: KEY_TTL_SECONDS },
          session: { type: 'realtime', model: model.id },
        });
        await deps.usage.record({
          actor,
          modelId: model.id,
          action: 'EPHEMERAL_KEY',
          cost: deps.creditCost / 1_000_000,
          success: true,
          latencyMs: Date.now() - startedAt,
        });
        return { value: secret.value, expiresAt: new Date(secret.expires_at * 1000), createdAt: new Date(startedAt) };
      } catch (error) {
        await deps.credits.settle(actor.billedUserId, deps.creditCost, 0, reference);
        await deps.usage.record({ actor, modelId: model.id, action: 'EPHEMERAL_KEY', cost: 0, success: false, latencyMs: Date.now() - startedAt });
        throw providerFailure(error);
      }
    },
  };
}

export type EphemeralKeysService = ReturnType<typeof createEphemeralKeysService>;
