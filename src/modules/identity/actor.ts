import type { Tier, User } from '../../generated/prisma/client.js';

export const apiKeyScopes = ['read', 'write', 'chat'] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

export interface ApiKeyInfo {
  id: string;
  scopes: string[];
  allowExternalUsage: boolean;
}

/** Who is calling, resolved once per operation. */
export interface Viewer {
  user: User;
  isGuest: boolean;
  tier: Tier;
  /** Set when the caller authenticated with an API key. */
  apiKey?: ApiKeyInfo;
  /** The team member an API key acts for (x-acting-user-email). */
  actingUser?: User;
}

/**
 * What services act as: `userId` owns the data read and written; `billedUserId`
 * pays limits and credits (the same person unless an API key acts for a team member).
 */
export interface Actor {
  userId: string;
  billedUserId: string;
  tier: Tier;
  isGuest: boolean;
  apiKeyId?: string;
  /** The billed user's balance and allowance as read when the operation began: a hint, never the check itself. */
  billingSeen?: { creditBalance: number; freeMessagesUsed: number };
}

export function actorOf(viewer: Viewer): Actor {
  return {
    userId: viewer.actingUser?.id ?? viewer.user.id,
    billedUserId: viewer.user.id,
    tier: viewer.tier,
    isGuest: viewer.isGuest,
    apiKeyId: viewer.apiKey?.id,
    billingSeen: { creditBalance: viewer.user.creditBalance, freeMessagesUsed: viewer.user.freeMessagesUsed },
  };
}

/** Whether the credential allows this kind of operation (API keys carry scopes; people and guests may do all). */
export function viewerMay(viewer: Viewer | null, scope: ApiKeyScope): boolean {
  return viewer !== null && (!viewer.apiKey || viewer.apiKey.scopes.includes(scope));
}
