import { builder } from '../../graphql/builder.js';
import { ModelRef } from '../catalog/catalog.schema.js';
import type { ProviderStatus } from '../../lib/llm/provider-registry.js';
import { gatewayVersion } from '../../lib/version.js';

const ProviderStatusRef = builder.objectRef<ProviderStatus>('ProviderStatus').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    configured: t.exposeBoolean('configured'),
    baseUrl: t.exposeString('baseUrl', { nullable: true }),
  }),
});

interface HealthShape {
  status: 'ok' | 'degraded';
  database: string;
  pubsub: string;
  usingDemoProvider: boolean;
}

const HealthRef = builder.objectRef<HealthShape>('Health').implement({
  fields: (t) => ({
    status: t.exposeString('status', { description: '"ok" or "degraded" (the database did not answer).' }),
    version: t.string({ resolve: () => gatewayVersion }),
    database: t.exposeString('database', { description: '"pglite" (embedded) or "postgresql".' }),
    pubsub: t.exposeString('pubsub', { description: '"memory" or "redis".' }),
    providers: t.field({ type: [ProviderStatusRef], resolve: (_health, _args, context) => context.services.registry.statuses }),
    defaultModel: t.id({ nullable: true, resolve: (_health, _args, context) => context.services.catalog.defaultModelId }),
    defaultModelDetails: t.field({
      type: ModelRef,
      nullable: true,
      description: 'The configuration of the default model: provider, context window, prices, modalities.',
      resolve: (_health, _args, context) => context.services.catalog.find(context.services.catalog.defaultModelId) ?? null,
    }),
    embeddingModel: t.id({
      nullable: true,
      description: 'The model used for memories and semantic search, if any.',
      resolve: (_health, _args, context) => context.services.embeddings.modelId,
    }),
    vectorIndex: t.string({
      description: 'How knowledge search ranks by meaning: "hnsw" (pgvector\'s index) or "exact" (a full scan where the database has no pgvector).',
      resolve: (_health, _args, context) => context.services.vectorIndex.kind,
    }),
    usingDemoProvider: t.exposeBoolean('usingDemoProvider', {
      description: 'True when no real provider is configured and the built-in demo answers every model.',
    }),
  }),
});

const ServiceVersionRef = builder.objectRef<{ features: string[]; providersSupported: string[] }>('ServiceVersion').implement({
  fields: (t) => ({
    service: t.string({ resolve: () => 'graphql-ai-chat-gateway' }),
    engine: t.string({ resolve: () => `node ${process.version}` }),
    version: t.string({ resolve: () => gatewayVersion }),
    features: t.exposeStringList('features'),
    providersSupported: t.exposeStringList('providersSupported'),
  }),
});

export const serviceFeatures = [
  'chat',
  'streaming',
  'multi_model',
  'graphql_ws',
  'sse',
  'stop_generation',
  'resume_stream',
  'regenerate',
  'branching',
  'conversation_history',
];

builder.queryFields((t) => ({
  health: t.field({
    type: HealthRef,
    description: 'Public: liveness plus provider, model and capability metadata.',
    authScopes: { public: true },
    resolve: async (_root, _args, context) => {
      const { db, registry } = context.services;
      const databaseAnswers = await db.prisma.$queryRaw`SELECT 1`.then(
        () => true,
        () => false,
      );
      return {
        status: databaseAnswers ? ('ok' as const) : ('degraded' as const),
        database: db.kind,
        pubsub: context.services.pubsubKind,
        usingDemoProvider: registry.usingDemo,
      };
    },
  }),
  version: t.field({
    type: ServiceVersionRef,
    description: 'Public: service version, engine and feature list.',
    authScopes: { public: true },
    resolve: (_root, _args, context) => ({
      features: serviceFeatures,
      providersSupported: context.services.registry.statuses.map((provider) => provider.id),
    }),
  }),
}));
