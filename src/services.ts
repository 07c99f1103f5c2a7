import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config } from './lib/config.js';
import { openDatabase, type Database } from './lib/db.js';
import { createProviderRegistry, type ProviderRegistry } from './lib/llm/provider-registry.js';
import type { Logger } from './lib/logger.js';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { createGatewayPubSub, type GatewayPubSub } from './lib/pubsub.js';
import { connectRedis, type RedisConnections } from './lib/redis.js';
import { createRedisEventLog } from './modules/chat/redis-event-log.js';
import type { LimiterFactory } from './modules/limits/limits.service.js';
import { createCatalogService, type CatalogService } from './modules/catalog/catalog.service.js';
import { createChatService, type ChatService } from './modules/chat/chat.service.js';
import { createMemoryEventLog, type EventLog } from './modules/chat/event-log.js';
import { createConversationService, type ConversationService } from './modules/conversations/conversations.service.js';
import { createCreditsService, type CreditsService } from './modules/credits/credits.service.js';
import { createAdminService, type AdminService } from './modules/identity/admin.service.js';
import { createApiKeysService, type ApiKeysService } from './modules/identity/api-keys.service.js';
import { createIdentityService, type IdentityService } from './modules/identity/identity.service.js';
import { createUsersService } from './modules/identity/users.service.js';
import { createLimitsService, type LimitsService } from './modules/limits/limits.service.js';
import { createTemplatesService, type TemplatesService } from './modules/templates/templates.service.js';
import { createFeedbackService, type FeedbackService } from './modules/feedback/feedback.service.js';
import { createMemoriesService, type MemoriesService } from './modules/memories/memories.service.js';
import { createEmbeddingsService, type EmbeddingsService } from './modules/search/embeddings.service.js';
import { createSearchService, type SearchService } from './modules/search/search.service.js';
import { createWebSearch } from './modules/search/web-search.js';
import { createEncryptionService, type EncryptionService } from './modules/encryption/encryption.service.js';
import { createConversationAccess, type ConversationAccessService } from './modules/encryption/conversation-access.js';
import { createUsageService, type UsageService } from './modules/usage/usage.service.js';
import { createLocalFileStore, createS3FileStore, type FileStore } from './modules/files/file-store.js';
import { createFilesService, type FilesService } from './modules/files/files.service.js';
import { createViewerUpdates, type ViewerUpdates } from './modules/identity/viewer-updates.js';
import { createExportsService, type ExportsService } from './modules/exports/exports.service.js';
import { createImagesService, type ImagesService } from './modules/images/images.service.js';
import { createEphemeralKeysService, type EphemeralKeysService } from './modules/voice/ephemeral-keys.service.js';
import { createVoiceService, type VoiceService } from './modules/voice/voice.service.js';
import { createBatchService, type BatchService } from './modules/batch/batch.service.js';
import { randomUUID } from 'node:crypto';
import { createReadiness, type Readiness } from './modules/operations/readiness.js';
import { createMetrics, type Metrics } from './modules/operations/metrics.js';
import { startTracing } from './lib/tracing-setup.js';
import { createIndexer, type Indexer } from './modules/knowledge/indexer.js';
import { createKnowledgeSearch } from './modules/knowledge/knowledge-search.js';
import { createKnowledgeService, type KnowledgeService } from './modules/knowledge/knowledge.service.js';
import { detectVectorIndex, type VectorIndex } from './modules/knowledge/vector-index.js';
import { createMessageVectors } from './modules/search/message-vectors.js';

/** Everything an operation may use, built once per server. */
export interface Services {
  config: Config;
  logger: Logger;
  db: Database;
  pubsub: GatewayPubSub;
  /** "redis" when instances share events through Redis, else "memory". */
  pubsubKind: 'memory' | 'redis';
  eventLog: EventLog;
  registry: ProviderRegistry;
  catalog: CatalogService;
  identity: IdentityService;
  apiKeys: ApiKeysService;
  admin: AdminService;
  credits: CreditsService;
  limits: LimitsService;
  chat: ChatService;
  conversations: ConversationService;
  templates: TemplatesService;
  usage: UsageService;
  embeddings: EmbeddingsService;
  memories: MemoriesService;
  search: SearchService;
  feedback: FeedbackService;
  files: FilesService;
  viewerUpdates: ViewerUpdates;
  exports: ExportsService;
  images: ImagesService;
  voice: VoiceService;
  ephemeralKeys: EphemeralKeysService;
  batch: BatchService;
  /** Which vector ranking the database gives knowledge search. */
  vectorIndex: VectorIndex;
  knowledge: KnowledgeService;
  indexer: Indexer;
  encryption: EncryptionService;
  access: ConversationAccessService;
  readiness: Readiness;
  metrics: Metrics;
  close(): Promise<void>;
}

/** Counters every instance shares, so a limit of N allows N in total, not N per instance. */
function redisLimiters(redis: RedisConnections): LimiterFactory {
  return (options) => new RateLimiterRedis({ ...options, keyPrefix: `${redis.prefix}:${options.keyPrefix}`, storeClient: redis.commands });
}

/** An in-memory database keeps its files in a temporary directory of its own. */
async function filesDirectory(config: Config): Promise<string> {
  if (config.filesDir) return config.filesDir;
  if (config.dataDir === 'memory://') return mkdtemp(path.join(tmpdir(), 'gateway-files-'));
  return path.join(config.dataDir, 'files');
}

async function fileStore(config: Config): Promise<FileStore> {
  if (config.filesBucket) {
    return createS3FileStore({
      bucket: config.filesBucket,
      prefix: config.filesPrefix,
      endpoint: config.s3Endpoint,
      region: config.s3Region,
      forcePathStyle: config.s3ForcePathStyle,
    });
  }
  return createLocalFileStore(await filesDirectory(config));
}

function defaultEmbeddingModel(registry: ProviderRegistry): string | undefined {
  if (registry.usingDemo) return 'demo-embed';
  return registry.isConfigured('openai') ? 'text-embedding-3-small' : undefined;
}

export async function createServices(config: Config, logger: Logger): Promise<Services> {
  const tracing = startTracing(config.tracing);
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    schema: config.databaseSchema,
    poolMax: config.databasePoolMax,
    maintenanceIntervalMs: config.embeddedMaintenanceIntervalMs,
    logger,
  });
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, config.redisPrefix, logger) : undefined;
  const pubsub = createGatewayPubSub(
    redis ? (createRedisEventTarget({ publishClient: redis.publisher, subscribeClient: redis.subscriber }) as unknown as EventTarget) : undefined,
  );
  const eventLog = redis ? createRedisEventLog(redis, pubsub, config.eventLogRetentionMs) : createMemoryEventLog(pubsub, config.eventLogRetentionMs);
  const registry = createProviderRegistry(config);
  const catalog = createCatalogService(registry);
  const announceViewerChange = (userId: string) => pubsub.publish('viewer', userId, { userId });
  const credits = createCreditsService(db.prisma, announceViewerChange);
  const limits = createLimitsService(config, redis ? redisLimiters(redis) : undefined, announceViewerChange);
  const users = createUsersService(db.prisma, config, credits);
  const apiKeys = createApiKeysService(db.prisma);
  const templates = createTemplatesService(db.prisma);
  const usage = createUsageService(db.prisma, catalog, logger);
  const embeddings = createEmbeddingsService(registry, catalog, usage, config.embeddingModel ?? defaultEmbeddingModel(registry));
  const memories = createMemoriesService({ prisma: db.prisma, credits, usage, embeddings, memoryCreditCost: config.memoryCreditCost });
  const vectorIndex = await detectVectorIndex(db.prisma);
  const search = createSearchService(db.prisma, embeddings, createMessageVectors(db.prisma, embeddings, vectorIndex, logger), logger);
  const store = await fileStore(config);
  const files = createFilesService(
    db.prisma,
    store,
    {
      maxFileBytes: config.maxFileBytes,
      maxConversationBytes: config.maxConversationFileBytes,
      maxFilesPerRequest: config.maxFilesPerRequest,
      ttlMinutes: config.fileTtlMinutes,
      extraction: { maxChars: config.maxExtractedChars, maxUnzippedBytes: config.maxUnzippedBytes, maxPdfPages: config.maxPdfPages },
      urls: {
        allowedHosts: config.fileUrlAllowedHosts,
        allowHttp: config.fileUrlAllowHttp,
        allowLoopback: config.fileUrlAllowLoopback,
        timeoutMs: config.fileUrlTimeoutMs,
        maxRedirects: config.fileUrlMaxRedirects,
      },
    },
    logger,
  );
  const webSearch = createWebSearch({ url: config.webSearchUrl, timeoutMs: config.webSearchTimeoutMs, maxResults: config.webSearchMaxResults });
  const encryption = createEncryptionService(db.prisma);
  const access = createConversationAccess(db.prisma, encryption);
  let chatRef: { runningCount(): number; followerCount(): number } | undefined;
  const metrics = createMetrics({
    activeReplies: () => chatRef?.runningCount() ?? 0,
    subscribers: () => chatRef?.followerCount() ?? 0,
    databasePool: () => db.poolStats(),
  });
  const instanceId = randomUUID();
  const indexer = createIndexer({
    prisma: db.prisma,
    embeddings,
    index: vectorIndex,
    quotas: config.knowledgeQuotas,
    logger,
    instanceId,
    orphanTimeoutMs: config.orphanTimeoutMs,
    pollMs: config.batchPollMs,
    embeddingBatch: config.knowledgeEmbeddingBatch,
  });
  const knowledge = createKnowledgeService({
    prisma: db.prisma,
    search: createKnowledgeSearch(db.prisma, embeddings, vectorIndex),
    quotas: config.knowledgeQuotas,
    wakeIndexer: indexer.wake,
  });
  const chat = createChatService({
    observer: metrics.observer,
    prisma: db.prisma,
    eventLog,
    pubsub,
    catalog,
    registry,
    logger,
    config,
    limits,
    credits,
    templates,
    usage,
    memories,
    knowledge,
    search,
    files,
    webSearch,
    encryption,
    access,
  });
  chatRef = chat;
  const conversations = createConversationService(db.prisma, chat, templates, access);
  return {
    config,
    logger,
    db,
    pubsub,
    pubsubKind: redis ? 'redis' : 'memory',
    eventLog,
    registry,
    catalog,
    identity: createIdentityService(db.prisma, config, users),
    viewerUpdates: createViewerUpdates({ prisma: db.prisma, pubsub, limits }),
    exports: createExportsService({ prisma: db.prisma, access, encryption, files, usage }),
    images: createImagesService({ prisma: db.prisma, catalog, registry, credits, files, usage }),
    apiKeys,
    admin: createAdminService(db.prisma, users, credits, apiKeys),
    credits,
    limits,
    chat,
    conversations,
    templates,
    usage,
    embeddings,
    memories,
    search,
    feedback: createFeedbackService(db.prisma, access),
    files,
    voice: createVoiceService({ prisma: db.prisma, registry, config, credits, usage }),
    ephemeralKeys: createEphemeralKeysService({ prisma: db.prisma, registry, catalog, credits, usage, creditCost: config.ephemeralKeyCreditCost }),
    encryption,
    access,
    metrics,
    readiness: createReadiness({ prisma: db.prisma, redis: redis?.commands, bucket: config.filesBucket ? store : undefined }),
    batch: createBatchService({ prisma: db.prisma, config, catalog, registry, credits, limits, usage, logger, instanceId }),
    vectorIndex,
    knowledge,
    indexer,
    async close() {
      await eventLog.close();
      await redis?.close();
      await db.close();
      await tracing.shutdown();
    },
  };
}
