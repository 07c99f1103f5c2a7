import type { Tier } from '../../generated/prisma/enums.js';

export const tierOrder: Tier[] = ['FREE', 'BASIC', 'PRO', 'ENTERPRISE'];

export function tierAtLeast(tier: Tier, minimum: Tier): boolean {
  return tierOrder.indexOf(tier) >= tierOrder.indexOf(minimum);
}

/** What each tier unlocks; `availableFeatures` and every guarded field read this one table. */
export const featureMinimumTier = {
  conversation_history: 'FREE',
  file_upload: 'FREE',
  memories: 'FREE',
  templates: 'FREE',
  voice_chat: 'BASIC',
  semantic_search: 'BASIC',
  web_search: 'BASIC',
  api_keys: 'BASIC',
  /** More than two models answering one message side by side (up to four). */
  multi_agent: 'PRO',
  batch: 'PRO',
  encryption: 'PRO',
  realtime: 'PRO',
  team_encryption: 'ENTERPRISE',
  delegation: 'ENTERPRISE',
} as const satisfies Record<string, Tier>;

export type FeatureName = keyof typeof featureMinimumTier;

export function hasFeature(tier: Tier, feature: FeatureName): boolean {
  return tierAtLeast(tier, featureMinimumTier[feature]);
}

export function featuresFor(tier: Tier): Array<{ name: FeatureName; enabled: boolean }> {
  return (Object.keys(featureMinimumTier) as FeatureName[]).map((name) => ({ name, enabled: hasFeature(tier, name) }));
}

/** Models that may answer one message side by side. */
export function maxModelsPerMessage(tier: Tier): number {
  return hasFeature(tier, 'multi_agent') ? 4 : 2;
}
