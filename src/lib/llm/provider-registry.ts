import OpenAI from 'openai';
import type { Config, CustomModelConfig, ProviderConfig } from '../config.js';
import { builtInModels, knownProviders } from '../../modules/catalog/catalog.data.js';
import type { CatalogModel } from '../../modules/catalog/catalog.types.js';
import { createDemoFetch, DEMO_BASE_URL } from './demo-provider.js';

export interface ProviderStatus {
  id: string;
  name: string;
  configured: boolean;
  baseUrl: string | null;
}

function customModel(provider: ProviderConfig, model: CustomModelConfig): CatalogModel {
  return {
    id: model.id,
    displayName: model.displayName ?? model.id,
    vendor: model.vendor ?? provider.name ?? provider.id,
    provider: provider.id,
    contextWindow: model.contextWindow ?? 128_000,
    maxOutputTokens: model.maxOutputTokens ?? 4_096,
    inputPrice: model.inputPrice ?? null,
    outputPrice: model.outputPrice ?? null,
    imagePrice: model.imagePrice ?? null,
    modalities: model.modalities ?? ['text'],
    minTier: model.minTier ?? 'FREE',
    privacy: model.privacy ?? 'PUBLIC',
    enabled: true,
  };
}

/** The catalog after a providers file has re-routed known models and added its own. */
function mergeCatalog(providers: ProviderConfig[]): CatalogModel[] {
  const models = new Map(builtInModels.map((model) => [model.id, { ...model }]));
  for (const provider of providers) {
    for (const entry of provider.models ?? []) {
      const id = typeof entry === 'string' ? entry : entry.id;
      const known = models.get(id);
      if (known && typeof entry === 'string') known.provider = provider.id;
      else models.set(id, { ...(known ?? {}), ...customModel(provider, typeof entry === 'string' ? { id } : entry) });
    }
  }
  return [...models.values()];
}

export function createProviderRegistry(config: Config) {
  const configured = new Map(config.providers.map((provider) => [provider.id, provider]));
  const catalog = mergeCatalog(config.providers);
  const clients = new Map<string, OpenAI>();
  clients.set('demo', new OpenAI({ baseURL: DEMO_BASE_URL, apiKey: 'demo', fetch: createDemoFetch({ delayMs: config.demoDelayMs }), maxRetries: 0 }));
  for (const provider of config.providers) {
    clients.set(
      provider.id,
      new OpenAI({
        baseURL: provider.baseURL,
        apiKey: provider.apiKey ?? 'not-needed',
        defaultHeaders: provider.headers,
        maxRetries: 0,
      }),
    );
  }

  const usingDemo = config.providers.length === 0;
  const firstConfiguredModel = catalog.find(
    (model) =>
      model.provider !== 'demo' &&
      configured.has(model.provider) &&
      !model.modalities.includes('embedding') &&
      !model.modalities.includes('realtime') &&
      !model.modalities.includes('image-output'),
  );
  const defaultModelId = config.defaultModel ?? (usingDemo ? 'demo' : (firstConfiguredModel?.id ?? 'demo'));

  const statuses: ProviderStatus[] = [
    { id: 'demo', name: 'Built-in demo', configured: true, baseUrl: null },
    ...knownProviders
      .filter((known) => !configured.has(known.id))
      .map((known) => ({ id: known.id, name: known.name, configured: false, baseUrl: known.baseURL })),
    ...config.providers.map((provider) => ({
      id: provider.id,
      name: provider.name ?? provider.id,
      configured: true,
      baseUrl: provider.baseURL,
    })),
  ];

  return {
    catalog,
    defaultModelId,
    /** True when no real provider is configured and the demo answers everything. */
    usingDemo,
    statuses,
    isConfigured: (providerId: string) => clients.has(providerId),
    clientFor(providerId: string): OpenAI | undefined {
      return clients.get(providerId);
    },
  };
}

export type ProviderRegistry = ReturnType<typeof createProviderRegistry>;
