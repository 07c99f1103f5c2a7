import { z } from 'zod';
import type { CustomModelConfig, ProviderConfig } from './config-types.js';

const count = z.number().int().nonnegative();
const tier = z.enum(['FREE', 'BASIC', 'PRO', 'ENTERPRISE']);

// Loose objects: keys this version does not know are kept, not dropped.
const customModel = z.looseObject({
  id: z.string().min(1),
  displayName: z.string().optional(),
  vendor: z.string().optional(),
  privacy: z.enum(['PUBLIC', 'PRIVATE_ENCRYPTED', 'TEAM_ENCRYPTED']).optional(),
  contextWindow: count.optional(),
  maxOutputTokens: count.optional(),
  inputPrice: z.number().nonnegative().optional(),
  outputPrice: z.number().nonnegative().optional(),
  imagePrice: z.number().nonnegative().optional(),
  modalities: z.array(z.string()).optional(),
  minTier: tier.optional(),
}) satisfies z.ZodType<CustomModelConfig>;

const provider = z.looseObject({
  id: z.string().min(1, 'needs an "id"'),
  name: z.string().optional(),
  baseURL: z.url({ error: 'needs a "baseURL" URL' }),
  apiKey: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  models: z.array(z.union([z.string(), customModel])).optional(),
  voice: z
    .looseObject({
      ttsModels: z.array(z.string()).optional(),
      sttModels: z.array(z.string()).optional(),
      voices: z.array(z.looseObject({ id: z.string(), name: z.string().optional(), gender: z.string().optional() })).optional(),
    })
    .optional(),
}) satisfies z.ZodType<ProviderConfig>;

/** PROVIDERS_FILE: a list of providers, bare or under "providers". */
export const providersFileSchema = z.preprocess(
  (file) => (Array.isArray(file) ? { providers: file } : file),
  z.object({ providers: z.array(provider, { error: 'must be a list of providers or { "providers": [...] }' }) }).transform((file) => file.providers),
);

/** FALLBACK_MODELS: { "gpt-4o": ["gpt-4o-mini"] }. */
export const fallbackModelsSchema = z.record(z.string(), z.array(z.string().min(1)));

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
