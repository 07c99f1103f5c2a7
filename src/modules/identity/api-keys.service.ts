import type { PrismaClient } from '../../generated/prisma/client.js';
import { badInput, forbidden, notFound } from '../../lib/errors.js';
import { apiKeyScopes, type Viewer } from './actor.js';
import { generateApiKey } from './credentials.js';
import { hasFeature } from './tiers.js';

export interface NewApiKey {
  name: string;
  allowExternalUsage?: boolean | null;
  scopes?: string[] | null;
  expiresAt?: Date | null;
}

export function createApiKeysService(prisma: PrismaClient) {
  async function issue(ownerId: string, input: NewApiKey) {
    const name = input.name.trim();
    if (name.length < 1 || name.length > 100) throw badInput('input.keyName');
    const scopes = input.scopes?.length ? [...new Set(input.scopes)] : [...apiKeyScopes];
    const unknown = scopes.filter((scope) => !(apiKeyScopes as readonly string[]).includes(scope));
    if (unknown.length > 0) throw badInput('input.keyScopes', { scopes: unknown.join(', '), allowed: apiKeyScopes.join(', ') });
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw badInput('input.keyExpiry');
    const { secret, prefix, secretHash } = generateApiKey();
    const key = await prisma.apiKey.create({
      data: { ownerId, name, prefix, secretHash, scopes, allowExternalUsage: input.allowExternalUsage ?? false, expiresAt: input.expiresAt ?? null },
    });
    return { id: key.id, name: key.name, secret, allowExternalUsage: key.allowExternalUsage, scopes: key.scopes, expiresAt: key.expiresAt };
  }

  return {
    issue,

    /** Keys are made by people, not by guests or by other keys; the secret is shown once. */
    async create(viewer: Viewer, input: NewApiKey) {
      if (viewer.isGuest || viewer.apiKey) throw forbidden('auth.keysNeedUser');
      if (!hasFeature(viewer.tier, 'api_keys')) throw forbidden('auth.feature', { feature: 'api_keys' });
      if (input.allowExternalUsage && !hasFeature(viewer.tier, 'delegation')) throw forbidden('auth.feature', { feature: 'delegation' });
      return issue(viewer.user.id, input);
    },

    async revoke(viewer: Viewer, id: string): Promise<boolean> {
      const { count } = await prisma.apiKey.updateMany({ where: { id, ownerId: viewer.user.id, revokedAt: null }, data: { revokedAt: new Date() } });
      if (count === 0 && !(await prisma.apiKey.findFirst({ where: { id, ownerId: viewer.user.id } }))) throw notFound('ApiKey', id);
      return true;
    },
  };
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;
