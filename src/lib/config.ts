import { defaultUpstreamPolicy, type UpstreamPolicy } from './llm/upstream-policy.js';
import type { QueryLimits } from '../graphql/limits.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { knownProviders } from '../modules/catalog/catalog.data.js';

export interface ProviderConfig {
  /** Registry id, e.g. "openai", "ollama". */
  id: string;
  name?: string;
  baseURL: string;
  apiKey?: string;
  headers?: Record<string, string>;
  /** Model ids this provider serves; catalog entries or new models described inline. */
  models?: Array<string | CustomModelConfig>;
  /** Speech endpoints this provider offers (OpenAI's are known without this). */
  voice?: VoiceProviderConfig;
}

export interface VoiceProviderConfig {
  ttsModels?: string[];
  sttModels?: string[];
  voices?: Array<{ id: string; name?: string; gender?: string }>;
}

export interface CustomModelConfig {
  id: string;
  displayName?: string;
  vendor?: string;
  /** PRIVATE_ENCRYPTED or TEAM_ENCRYPTED: conversations with it are encrypted at rest. */
  privacy?: 'PUBLIC' | 'PRIVATE_ENCRYPTED' | 'TEAM_ENCRYPTED';
  contextWindow?: number;
  maxOutputTokens?: number;
  inputPrice?: number;
  outputPrice?: number;
  modalities?: string[];
  minTier?: TierName;
}

export type TierName = 'FREE' | 'BASIC' | 'PRO' | 'ENTERPRISE';

export interface TierLimits {
  perMinute: number;
  perDay: number;
  /** Credits a new user of this tier starts with. */
  initialCredits: number;
}

/** What one knowledge collection may hold, per tier. */
export interface KnowledgeQuota {
  documents: number;
  chunks: number;
  bytes: number;
}

export interface JwtConfig {
  secret?: string;
  publicKey?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  algorithms: string[];
  tierClaim: string;
  clockToleranceSeconds: number;
}

export interface Config {
  port: number;
  host: string;
  nodeEnv: string;
  databaseUrl?: string;
  dataDir: string;
  /** Schema inside DATABASE_URL's database (tests isolate servers this way). */
  databaseSchema?: string;
  providers: ProviderConfig[];
  defaultModel?: string;
  maxMessageLength: number;
  /** How often streamed text is written to the database while a reply grows. */
  flushIntervalMs: number;
  /** How long a finished reply's events stay replayable with `after`. */
  eventLogRetentionMs: number;
  shutdownGraceMs: number;
  /** After the grace period, how long shutdown may still take before the process exits regardless. */
  shutdownForceAfterMs: number;
  /** A reply whose instance has not vouched for it this long is failed as interrupted (that instance died). */
  orphanTimeoutMs: number;
  logLevel: string;
  jwt: JwtConfig;
  tiers: Record<TierName, TierLimits>;
  knowledgeQuotas: Record<TierName, KnowledgeQuota>;
  /** Texts per call to the embeddings endpoint when indexing. */
  knowledgeEmbeddingBatch: number;
  /** Chat requests a guest device may make per minute (the in-app assistant's hard limit). */
  guestPerMinute: number;
  /** Messages guests and FREE users may send before they must sign up or upgrade; 0 = no allowance check. */
  freeMessageThreshold: number;
  /** Output tokens a reply may use; credits are reserved for this many. */
  maxOutputTokensPerReply: number;
  /** Model that turns text into vectors for search and memories; unset: the demo's, OpenAI's, or none. */
  embeddingModel?: string;
  /** Credits one stored memory costs. */
  memoryCreditCost: number;
  /** Credits one realtime ephemeral key costs. */
  ephemeralKeyCreditCost: number;
  /** Most requests one batch job may hold. */
  batchMaxRequests: number;
  /** Requests of a batch job an instance runs at once. */
  batchConcurrency: number;
  /** How often an idle instance looks for queued batch jobs. */
  batchPollMs: number;
  /** The address clients reach the gateway at, for links such as batch results; default: the request's Host. */
  publicUrl?: string;
  queryLimits: QueryLimits;
  /** Models to try, in order, when a model fails before its first token: { "gpt-4o": ["gpt-4o-mini"] }. */
  fallbackModels: Record<string, string[]>;
  /** Timeouts and retries for provider calls. */
  upstream: UpstreamPolicy;
  /** Largest non-multipart request body, in bytes (413 beyond). */
  maxBodyBytes: number;
  /** Plain HTTP: how long a client may take to send its headers, and its whole request (not the response: streams stay open). */
  http: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number; maxConnectionsPerIp: number };
  /** Browser origins allowed to call (CORS) and open WebSockets; empty: any. */
  allowedOrigins: string[];
  webSocket: { maxMessageBytes: number; maxOperationsPerSocket: number; maxConnectionsPerIp: number; initTimeoutMs: number };
  /** Serve GraphiQL at /graphql (default: everywhere but production). */
  graphiql: boolean;
  /** An allow-list of operations (codegen's persisted-documents.json); with `persistedOperationsOnly`, nothing else runs. */
  persistedOperationsFile?: string;
  persistedOperationsOnly: boolean;
  /** Serve the demo chat page at / (default: everywhere but production). */
  demoPage: boolean;
  /** A SearXNG-compatible search endpoint for `webSearch: true`; unset: web search is unavailable. */
  webSearchUrl?: string;
  webSearchTimeoutMs: number;
  webSearchMaxResults: number;
  /** Redis for several instances: shared pubsub, event logs, rate limits and stop requests. */
  redisUrl?: string;
  redisPrefix: string;
  /** Uploaded bytes, content-addressed; default DATA_DIR/files. */
  filesDir?: string;
  /** An S3-compatible bucket for uploads, shared by every instance; unset: the local files directory. */
  filesBucket?: string;
  filesPrefix: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3ForcePathStyle: boolean;
  maxFileBytes: number;
  maxConversationFileBytes: number;
  maxFilesPerRequest: number;
  /** Characters of text one file may yield (PDF, DOCX, HTML, plain text). */
  maxExtractedChars: number;
  /** Bytes the parts of one DOCX may inflate to. */
  maxUnzippedBytes: number;
  maxPdfPages: number;
  fileTtlMinutes: number;
  fileSweepIntervalMs: number;
}

function integer(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number.parseInt(value, 10);
  if (!Number.isFinite(parsed)) throw new Error(`Expected an integer, got "${value}"`);
  return parsed;
}

function providersFromEnv(env: NodeJS.ProcessEnv): ProviderConfig[] {
  const providers: ProviderConfig[] = [];
  for (const known of knownProviders) {
    const apiKey = known.keyEnv.map((name) => env[name]).find(Boolean);
    const baseURL = env[`${known.id.toUpperCase()}_BASE_URL`];
    if (!apiKey && !baseURL) continue;
    const models = env[`${known.id.toUpperCase()}_MODELS`];
    providers.push({
      id: known.id,
      name: known.name,
      baseURL: baseURL || known.baseURL,
      apiKey,
      models: models
        ? models
            .split(',')
            .map((model) => model.trim())
            .filter(Boolean)
        : undefined,
    });
  }
  if (env.PROVIDERS_FILE) {
    const file = path.resolve(env.PROVIDERS_FILE);
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { providers?: ProviderConfig[] } | ProviderConfig[];
    const list = Array.isArray(parsed) ? parsed : (parsed.providers ?? []);
    for (const provider of list) {
      if (!provider.id || !provider.baseURL) throw new Error(`${file}: every provider needs "id" and "baseURL"`);
      providers.push({ ...provider, apiKey: provider.apiKey ?? env[`${provider.id.toUpperCase()}_API_KEY`] });
    }
  }
  return providers;
}

function tierLimits(env: NodeJS.ProcessEnv, tier: TierName, perMinute: number, perDay: number, initialCredits: number): TierLimits {
  return {
    perMinute: integer(env[`RATE_LIMIT_${tier}_PER_MINUTE`], perMinute),
    perDay: integer(env[`RATE_LIMIT_${tier}_PER_DAY`], perDay),
    initialCredits: integer(env[`INITIAL_CREDITS_${tier}`], initialCredits),
  };
}

function knowledgeQuota(env: NodeJS.ProcessEnv, tier: TierName, documents: number, chunks: number, megabytes: number): KnowledgeQuota {
  return {
    documents: integer(env[`KNOWLEDGE_${tier}_DOCUMENTS`], documents),
    chunks: integer(env[`KNOWLEDGE_${tier}_CHUNKS`], chunks),
    bytes: integer(env[`KNOWLEDGE_${tier}_BYTES`], megabytes * 1024 * 1024),
  };
}

function jwtFromEnv(env: NodeJS.ProcessEnv): JwtConfig {
  const publicKey = env.JWT_PUBLIC_KEY?.replace(/\\n/g, '\n');
  const defaultAlgorithms = env.JWT_SECRET && !publicKey && !env.JWT_JWKS_URL ? ['HS256'] : ['RS256', 'ES256', 'PS256', 'EdDSA'];
  return {
    secret: env.JWT_SECRET || undefined,
    publicKey: publicKey || undefined,
    jwksUrl: env.JWT_JWKS_URL || undefined,
    issuer: env.JWT_ISSUER || undefined,
    audience: env.JWT_AUDIENCE || undefined,
    algorithms: env.JWT_ALGORITHMS ? env.JWT_ALGORITHMS.split(',').map((name) => name.trim()) : defaultAlgorithms,
    tierClaim: env.JWT_TIER_CLAIM || 'tier',
    clockToleranceSeconds: integer(env.JWT_CLOCK_TOLERANCE_SECONDS, 30),
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  return {
    port: integer(env.PORT, 4000),
    host: env.HOST || '127.0.0.1',
    nodeEnv: env.NODE_ENV || 'development',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.DATA_DIR || './data',
    databaseSchema: env.DATABASE_SCHEMA || undefined,
    providers: providersFromEnv(env),
    defaultModel: env.DEFAULT_MODEL || undefined,
    maxMessageLength: integer(env.MAX_MESSAGE_LENGTH, 2000),
    flushIntervalMs: integer(env.STREAM_FLUSH_INTERVAL_MS, 250),
    eventLogRetentionMs: integer(env.EVENT_LOG_RETENTION_MS, 10 * 60 * 1000),
    shutdownGraceMs: integer(env.SHUTDOWN_GRACE_MS, 10_000),
    shutdownForceAfterMs: integer(env.SHUTDOWN_FORCE_AFTER_MS, 10_000),
    orphanTimeoutMs: integer(env.ORPHAN_TIMEOUT_MS, 30_000),
    logLevel: env.LOG_LEVEL || (env.NODE_ENV === 'test' ? 'silent' : 'info'),
    jwt: jwtFromEnv(env),
    tiers: {
      FREE: tierLimits(env, 'FREE', 10, 100, 200_000),
      BASIC: tierLimits(env, 'BASIC', 60, 1_000, 5_000_000),
      PRO: tierLimits(env, 'PRO', 120, 5_000, 20_000_000),
      ENTERPRISE: tierLimits(env, 'ENTERPRISE', 500, 50_000, 100_000_000),
    },
    knowledgeQuotas: {
      FREE: knowledgeQuota(env, 'FREE', 20, 2_000, 5),
      BASIC: knowledgeQuota(env, 'BASIC', 200, 20_000, 50),
      PRO: knowledgeQuota(env, 'PRO', 2_000, 200_000, 500),
      ENTERPRISE: knowledgeQuota(env, 'ENTERPRISE', 20_000, 2_000_000, 5_000),
    },
    knowledgeEmbeddingBatch: integer(env.KNOWLEDGE_EMBEDDING_BATCH, 64),
    guestPerMinute: integer(env.GUEST_RATE_LIMIT_PER_MINUTE, 20),
    freeMessageThreshold: integer(env.FREE_MESSAGE_THRESHOLD, 20),
    maxOutputTokensPerReply: integer(env.MAX_OUTPUT_TOKENS_PER_REPLY, 4_096),
    embeddingModel: env.EMBEDDING_MODEL || undefined,
    memoryCreditCost: integer(env.MEMORY_CREDIT_COST, 1_000),
    ephemeralKeyCreditCost: integer(env.EPHEMERAL_KEY_CREDIT_COST, 10_000),
    batchMaxRequests: integer(env.BATCH_MAX_REQUESTS, 1_000),
    batchConcurrency: integer(env.BATCH_CONCURRENCY, 4),
    batchPollMs: integer(env.BATCH_POLL_MS, 1_000),
    publicUrl: env.PUBLIC_URL || undefined,
    queryLimits: {
      maxDepth: integer(env.MAX_QUERY_DEPTH, 10),
      maxAliases: integer(env.MAX_QUERY_ALIASES, 15),
      maxDirectives: integer(env.MAX_QUERY_DIRECTIVES, 50),
      maxTokens: integer(env.MAX_QUERY_TOKENS, 2_000),
      maxQueryLength: integer(env.MAX_QUERY_LENGTH, 15_000),
      maxCost: integer(env.MAX_QUERY_COST, 5_000),
      hideSchema: (env.NODE_ENV || 'development') === 'production' && env.INTROSPECTION !== 'true',
    },
    maxBodyBytes: integer(env.MAX_BODY_BYTES, 1024 * 1024),
    http: {
      headersTimeoutMs: integer(env.HTTP_HEADERS_TIMEOUT_MS, 10_000),
      requestTimeoutMs: integer(env.HTTP_REQUEST_TIMEOUT_MS, 30_000),
      keepAliveTimeoutMs: integer(env.HTTP_KEEP_ALIVE_TIMEOUT_MS, 5_000),
      maxConnectionsPerIp: integer(env.HTTP_MAX_CONNECTIONS_PER_IP, 200),
    },
    fallbackModels: env.FALLBACK_MODELS ? (JSON.parse(env.FALLBACK_MODELS) as Record<string, string[]>) : {},
    upstream: {
      connectTimeoutMs: integer(env.UPSTREAM_CONNECT_TIMEOUT_MS, defaultUpstreamPolicy.connectTimeoutMs),
      firstTokenTimeoutMs: integer(env.UPSTREAM_FIRST_TOKEN_TIMEOUT_MS, defaultUpstreamPolicy.firstTokenTimeoutMs),
      idleTimeoutMs: integer(env.UPSTREAM_IDLE_TIMEOUT_MS, defaultUpstreamPolicy.idleTimeoutMs),
      totalTimeoutMs: integer(env.UPSTREAM_TOTAL_TIMEOUT_MS, defaultUpstreamPolicy.totalTimeoutMs),
      maxRetries: integer(env.UPSTREAM_MAX_RETRIES, defaultUpstreamPolicy.maxRetries),
      maxRetryAfterMs: integer(env.UPSTREAM_MAX_RETRY_AFTER_MS, defaultUpstreamPolicy.maxRetryAfterMs),
      retryBaseMs: integer(env.UPSTREAM_RETRY_BASE_MS, defaultUpstreamPolicy.retryBaseMs),
    },
    allowedOrigins: (env.ALLOWED_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    webSocket: {
      maxMessageBytes: integer(env.WS_MAX_MESSAGE_BYTES, 1024 * 1024),
      maxOperationsPerSocket: integer(env.WS_MAX_OPERATIONS_PER_SOCKET, 20),
      maxConnectionsPerIp: integer(env.WS_MAX_CONNECTIONS_PER_IP, 100),
      initTimeoutMs: integer(env.WS_INIT_TIMEOUT_MS, 5_000),
    },
    graphiql: env.GRAPHIQL ? env.GRAPHIQL === 'true' : (env.NODE_ENV || 'development') !== 'production',
    persistedOperationsFile: env.PERSISTED_OPERATIONS_FILE || undefined,
    persistedOperationsOnly: env.PERSISTED_OPERATIONS_ONLY !== 'false',
    demoPage: env.DEMO_PAGE ? env.DEMO_PAGE === 'true' : (env.NODE_ENV || 'development') !== 'production',
    webSearchUrl: env.WEB_SEARCH_URL || undefined,
    webSearchTimeoutMs: integer(env.WEB_SEARCH_TIMEOUT_MS, 5_000),
    webSearchMaxResults: integer(env.WEB_SEARCH_MAX_RESULTS, 5),
    filesDir: env.FILES_DIR || undefined,
    filesBucket: env.FILES_BUCKET || undefined,
    filesPrefix: env.FILES_PREFIX || '',
    s3Endpoint: env.S3_ENDPOINT || undefined,
    s3Region: env.S3_REGION || env.AWS_REGION || undefined,
    s3ForcePathStyle: env.S3_FORCE_PATH_STYLE === 'true',
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.REDIS_PREFIX || 'gateway',
    maxFileBytes: integer(env.MAX_FILE_BYTES, 20 * 1024 * 1024),
    maxConversationFileBytes: integer(env.MAX_CONVERSATION_FILE_BYTES, 100 * 1024 * 1024),
    maxFilesPerRequest: integer(env.MAX_FILES_PER_REQUEST, 10),
    maxExtractedChars: integer(env.MAX_EXTRACTED_CHARS, 2_000_000),
    maxUnzippedBytes: integer(env.MAX_UNZIPPED_BYTES, 64 * 1024 * 1024),
    maxPdfPages: integer(env.MAX_PDF_PAGES, 2_000),
    fileTtlMinutes: integer(env.FILE_TTL_MINUTES, 30),
    fileSweepIntervalMs: integer(env.FILE_SWEEP_INTERVAL_MS, 60_000),
    ...overrides,
  };
}
