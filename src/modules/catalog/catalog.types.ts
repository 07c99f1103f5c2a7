import type { Privacy, Tier } from '../../generated/prisma/enums.js';

export interface CatalogModel {
  /** The name clients pass and the provider receives, e.g. "gpt-4o". */
  id: string;
  displayName: string;
  vendor: string;
  /** Registry id of the provider that serves it. */
  provider: string;
  contextWindow: number;
  maxOutputTokens: number;
  /** USD per 1M input tokens. */
  inputPrice: number | null;
  /** USD per 1M output tokens. */
  outputPrice: number | null;
  /** USD per generated image, for image models (modality "image-output"). */
  imagePrice?: number | null;
  modalities: string[];
  minTier: Tier;
  privacy: Privacy;
  enabled: boolean;
}
