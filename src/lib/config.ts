import { knownProviders } from '../modules/catalog/catalog.data.js';
import type { Config, JwtConfig, KnowledgeQuota, ProviderConfig, TierLimits, TierName } from './config-types.js';
import { fallbackModelsSchema, logLevels, providersFileSchema } from './config-schema.js';
import { createEnvReader, type EnvReader } from './env-reader.js';
import { defaultUpstreamPolicy } from './llm/upstream-policy.js';

export type * from './config-types.js';
export { ConfigError } from './env-reader.js';

// Every variable is read here, through `read` (src/lib/env-reader.ts): one line per variable,
// with its default, e.g. `batchPollMs: read.integer('BATCH_POLL_MS', 1_000)`. List it in .env.example too.

function providersFromEnv(env: NodeJS.ProcessEnv, read: EnvReader): ProviderConfig[] {
  const providers: ProviderConfig[] = [];
  for (const known of knownProviders) {
    const apiKey = known.keyEnv.map((name) => env[name]).find(Boolean);
    const baseURL = read.url(`${known.id.toUpperCase()}_BASE_URL`);
    if (!apiKey && !baseURL) continue;
    const models = read.list(`${known.id.toUpperCase()}_MODELS`);
    providers.push({ id: known.id, name: known.name, baseURL: baseURL || known.baseURL, apiKey, models: models.length > 0 ? models : undefined });
  }
  for (const provider of read.jsonFile('PROVIDERS_FILE', providersFileSchema) ?? []) {
    providers.push({ ...provider, apiKey: provider.apiKey ?? env[`${provider.id.toUpperCase()}_API_KEY`] });
  }
  return providers;
}

function tierLimits(read: EnvReader, tier: TierName, perMinute: number, perDay: number, initialCredits: number): TierLimits {
  return {
    perMinute: read.integer(`RATE_LIMIT_${tier}_PER_MINUTE`, perMinute),
    perDay: read.integer(`RATE_LIMIT_${tier}_PER_DAY`, perDay),
    initialCredits: read.integer(`INITIAL_CREDITS_${tier}`, initialCredits),
  };
}

function knowledgeQuota(read: EnvReader, tier: TierName, documents: number, chunks: number, megabytes: number): KnowledgeQuota {
  return {
    documents: read.integer(`KNOWLEDGE_${tier}_DOCUMENTS`, documents),
    chunks: read.integer(`KNOWLEDGE_${tier}_CHUNKS`, chunks),
    bytes: read.integer(`KNOWLEDGE_${tier}_BYTES`, megabytes * 1024 * 1024),
  };
}

function jwtFromEnv(read: EnvReader): JwtConfig {
  const secret = read.text('JWT_SECRET');
  const publicKey = read.text('JWT_PUBLIC_KEY')?.replace(/\\n/g, '\n');
  const jwksUrl = read.url('JWT_JWKS_URL');
  const defaultAlgorithms = secret && !publicKey && !jwksUrl ? ['HS256'] : ['RS256', 'ES256', 'PS256', 'EdDSA'];
  return {
    secret,
    publicKey,
    jwksUrl,
    issuer: read.text('JWT_ISSUER'),
    audience: read.text('JWT_AUDIENCE'),
    algorithms: read.list('JWT_ALGORITHMS', defaultAlgorithms),
    tierClaim: read.text('JWT_TIER_CLAIM', 'tier'),
    clockToleranceSeconds: read.integer('JWT_CLOCK_TOLERANCE_SECONDS', 30),
  };
}

function upstreamFromEnv(read: EnvReader): Config['upstream'] {
  const defaults = defaultUpstreamPolicy;
  return {
    connectTimeoutMs: read.integer('UPSTREAM_CONNECT_TIMEOUT_MS', defaults.connectTimeoutMs),
    firstTokenTimeoutMs: read.integer('UPSTREAM_FIRST_TOKEN_TIMEOUT_MS', defaults.firstTokenTimeoutMs),
    idleTimeoutMs: read.integer('UPSTREAM_IDLE_TIMEOUT_MS', defaults.idleTimeoutMs),
    totalTimeoutMs: read.integer('UPSTREAM_TOTAL_TIMEOUT_MS', defaults.totalTimeoutMs),
    maxRetries: read.integer('UPSTREAM_MAX_RETRIES', defaults.maxRetries),
    maxRetryAfterMs: read.integer('UPSTREAM_MAX_RETRY_AFTER_MS', defaults.maxRetryAfterMs),
    retryBaseMs: read.integer('UPSTREAM_RETRY_BASE_MS', defaults.retryBaseMs),
  };
}

function filesFromEnv(read: EnvReader) {
  return {
    filesDir: read.text('FILES_DIR'),
    filesBucket: read.text('FILES_BUCKET'),
    filesPrefix: read.text('FILES_PREFIX', ''),
    s3Endpoint: read.url('S3_ENDPOINT'),
    s3Region: read.text('S3_REGION') ?? read.text('AWS_REGION'),
    s3ForcePathStyle: read.flag('S3_FORCE_PATH_STYLE', false),
    maxFileBytes: read.integer('MAX_FILE_BYTES', 20 * 1024 * 1024),
    maxConversationFileBytes: read.integer('MAX_CONVERSATION_FILE_BYTES', 100 * 1024 * 1024),
    maxFilesPerRequest: read.integer('MAX_FILES_PER_REQUEST', 10),
    maxExtractedChars: read.integer('MAX_EXTRACTED_CHARS', 2_000_000),
    maxUnzippedBytes: read.integer('MAX_UNZIPPED_BYTES', 64 * 1024 * 1024),
    maxPdfPages: read.integer('MAX_PDF_PAGES', 2_000),
    fileTtlMinutes: read.integer('FILE_TTL_MINUTES', 30),
    fileSweepIntervalMs: read.integer('FILE_SWEEP_INTERVAL_MS', 60_000, { min: 1 }),
    fileUrlAllowedHosts: read.list('FILE_URL_ALLOWED_HOSTS'),
    fileUrlAllowHttp: read.flag('FILE_URL_ALLOW_HTTP', false),
    fileUrlAllowLoopback: false,
    fileUrlTimeoutMs: read.integer('FILE_URL_TIMEOUT_MS', 15_000, { min: 1 }),
    fileUrlMaxRedirects: read.integer('FILE_URL_MAX_REDIRECTS', 3),
  };
}

/** Reads and checks every variable; throws one ConfigError naming each bad one. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const read = createEnvReader(env);
  const nodeEnv = read.text('NODE_ENV', 'development');
  const production = nodeEnv === 'production';
  const config: Config = {
    port: read.integer('PORT', 4000, { max: 65_535 }),
    host: read.text('HOST', '127.0.0.1'),
    nodeEnv,
    databaseUrl: read.url('DATABASE_URL', ['postgres', 'postgresql']),
    dataDir: read.text('DATA_DIR', './data'),
    databaseSchema: read.text('DATABASE_SCHEMA'),
    databasePoolMax: read.integer('DATABASE_POOL_MAX', 10, { min: 1 }),
    embeddedMaintenanceIntervalMs: read.integer('EMBEDDED_MAINTENANCE_INTERVAL_MS', 60_000),
    providers: providersFromEnv(env, read),
    defaultModel: read.text('DEFAULT_MODEL'),
    demoDelayMs: read.integer('DEMO_DELAY_MS', 30),
    maxMessageLength: read.integer('MAX_MESSAGE_LENGTH', 2000),
    flushIntervalMs: read.integer('STREAM_FLUSH_INTERVAL_MS', 250, { min: 1 }),
    flushesPerSecond: read.integer('STREAM_FLUSHES_PER_SECOND', 20),
    eventLogRetentionMs: read.integer('EVENT_LOG_RETENTION_MS', 10 * 60 * 1000),
    shutdownDrainMs: read.integer('SHUTDOWN_DRAIN_MS', 0),
    shutdownGraceMs: read.integer('SHUTDOWN_GRACE_MS', 10_000),
    shutdownForceAfterMs: read.integer('SHUTDOWN_FORCE_AFTER_MS', 10_000),
    orphanTimeoutMs: read.integer('ORPHAN_TIMEOUT_MS', 30_000),
    logLevel: read.oneOf('LOG_LEVEL', logLevels, nodeEnv === 'test' ? 'silent' : 'info'),
    jwt: jwtFromEnv(read),
    tiers: {
      FREE: tierLimits(read, 'FREE', 10, 100, 200_000),
      BASIC: tierLimits(read, 'BASIC', 60, 1_000, 5_000_000),
      PRO: tierLimits(read, 'PRO', 120, 5_000, 20_000_000),
      ENTERPRISE: tierLimits(read, 'ENTERPRISE', 500, 50_000, 100_000_000),
    },
    knowledgeQuotas: {
      FREE: knowledgeQuota(read, 'FREE', 20, 2_000, 5),
      BASIC: knowledgeQuota(read, 'BASIC', 200, 20_000, 50),
      PRO: knowledgeQuota(read, 'PRO', 2_000, 200_000, 500),
      ENTERPRISE: knowledgeQuota(read, 'ENTERPRISE', 20_000, 2_000_000, 5_000),
    },
    knowledgeEmbeddingBatch: read.integer('KNOWLEDGE_EMBEDDING_BATCH', 64, { min: 1 }),
    guestPerMinute: read.integer('GUEST_RATE_LIMIT_PER_MINUTE', 20),
    freeMessageThreshold: read.integer('FREE_MESSAGE_THRESHOLD', 20),
    maxOutputTokensPerReply: read.integer('MAX_OUTPUT_TOKENS_PER_REPLY', 4_096, { min: 1 }),
    embeddingModel: read.text('EMBEDDING_MODEL'),
    memoryCreditCost: read.integer('MEMORY_CREDIT_COST', 1_000),
    ephemeralKeyCreditCost: read.integer('EPHEMERAL_KEY_CREDIT_COST', 10_000),
    batchMaxRequests: read.integer('BATCH_MAX_REQUESTS', 1_000, { min: 1 }),
    batchConcurrency: read.integer('BATCH_CONCURRENCY', 4, { min: 1 }),
    batchPollMs: read.integer('BATCH_POLL_MS', 1_000, { min: 1 }),
    publicUrl: read.url('PUBLIC_URL'),
    queryLimits: {
      maxDepth: read.integer('MAX_QUERY_DEPTH', 10),
      maxAliases: read.integer('MAX_QUERY_ALIASES', 15),
      maxDirectives: read.integer('MAX_QUERY_DIRECTIVES', 50),
      maxTokens: read.integer('MAX_QUERY_TOKENS', 2_000),
      maxQueryLength: read.integer('MAX_QUERY_LENGTH', 15_000),
      maxCost: read.integer('MAX_QUERY_COST', 5_000),
      hideSchema: production && !read.flag('INTROSPECTION', false),
    },
    maxBodyBytes: read.integer('MAX_BODY_BYTES', 1024 * 1024),
    http: {
      headersTimeoutMs: read.integer('HTTP_HEADERS_TIMEOUT_MS', 10_000),
      requestTimeoutMs: read.integer('HTTP_REQUEST_TIMEOUT_MS', 30_000),
      keepAliveTimeoutMs: read.integer('HTTP_KEEP_ALIVE_TIMEOUT_MS', 5_000),
      maxConnectionsPerIp: read.integer('HTTP_MAX_CONNECTIONS_PER_IP', 200),
    },
    fallbackModels: read.jsonValue('FALLBACK_MODELS', fallbackModelsSchema, {}),
    upstream: upstreamFromEnv(read),
    allowedOrigins: read.list('ALLOWED_ORIGINS'),
    webSocket: {
      maxMessageBytes: read.integer('WS_MAX_MESSAGE_BYTES', 1024 * 1024),
      maxOperationsPerSocket: read.integer('WS_MAX_OPERATIONS_PER_SOCKET', 20),
      maxConnectionsPerIp: read.integer('WS_MAX_CONNECTIONS_PER_IP', 100),
      initTimeoutMs: read.integer('WS_INIT_TIMEOUT_MS', 5_000),
    },
    sse: {
      reservationTtlMs: read.integer('SSE_RESERVATION_TTL_MS', 30_000, { min: 1 }),
      maxReservations: read.integer('SSE_MAX_RESERVATIONS', 1_000, { min: 1 }),
    },
    graphiql: read.flag('GRAPHIQL', !production),
    persistedOperationsFile: read.text('PERSISTED_OPERATIONS_FILE'),
    persistedOperationsOnly: read.flag('PERSISTED_OPERATIONS_ONLY', true),
    demoPage: read.flag('DEMO_PAGE', !production),
    webSearchUrl: read.url('WEB_SEARCH_URL'),
    webSearchTimeoutMs: read.integer('WEB_SEARCH_TIMEOUT_MS', 5_000),
    webSearchMaxResults: read.integer('WEB_SEARCH_MAX_RESULTS', 5),
    tools: {
      maxSteps: read.integer('MAX_TOOL_STEPS', 5, { min: 1 }),
      timeoutMs: read.integer('TOOL_TIMEOUT_MS', 10_000, { min: 1 }),
      outputMaxChars: read.integer('TOOL_OUTPUT_MAX_CHARS', 8_000, { min: 1 }),
    },
    redisUrl: read.url('REDIS_URL', ['redis', 'rediss']),
    redisPrefix: read.text('REDIS_PREFIX', 'gateway'),
    ...filesFromEnv(read),
    metricsToken: read.text('METRICS_TOKEN'),
    tracing: { endpoint: read.url('OTEL_EXPORTER_OTLP_ENDPOINT'), serviceName: read.text('OTEL_SERVICE_NAME', 'graphql-ai-chat-gateway') },
  };
  read.check();
  return { ...config, ...overrides };
}
