import type { QueryLimits } from '../graphql/limits.js';
import type { UpstreamPolicy } from './llm/upstream-policy.js';

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
  /** USD per generated image (image models, modality "image-output"). */
  imagePrice?: number;
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
  /** How often the embedded database analyzes and vacuums changed tables (it has no autovacuum); 0: never. */
  embeddedMaintenanceIntervalMs: number;
  providers: ProviderConfig[];
  defaultModel?: string;
  maxMessageLength: number;
  /** How often streamed text is written to the database while a reply grows. */
  flushIntervalMs: number;
  /** At most this many of those writes per second per instance; with more replies streaming, each flushes less often (0: no limit). */
  flushesPerSecond: number;
  /** How long a finished reply's events stay replayable with `after`. */
  eventLogRetentionMs: number;
  /** On shutdown, how long /readyz answers 503 while the instance still serves, before it stops accepting connections. */
  shutdownDrainMs: number;
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
  /** graphql-sse single-connection reservations: unopened ones per instance, and how long one waits to be opened. */
  sse: { reservationTtlMs: number; maxReservations: number };
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
  /** The server-tool loop: model calls per reply, and each tool's time and output limits. */
  tools: { maxSteps: number; timeoutMs: number; outputMaxChars: number };
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
  /** Hosts SendMessageInput.fileUrls may name (FILE_URL_ALLOWED_HOSTS, comma-separated); empty: no URL is fetched. */
  fileUrlAllowedHosts: string[];
  fileUrlAllowHttp: boolean;
  /** Lets file URLs reach loopback addresses. Tests set it to serve files from 127.0.0.1; no environment variable sets it. */
  fileUrlAllowLoopback: boolean;
  fileUrlTimeoutMs: number;
  fileUrlMaxRedirects: number;
  /** Connections the pool to DATABASE_URL may open (the embedded database always has one). */
  databasePoolMax: number;
  /** Pause between the demo provider's chunks. */
  demoDelayMs: number;
  /** When set, /metrics answers only requests with `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** OpenTelemetry: spans are exported by OTLP/HTTP to `endpoint` when set, not recorded otherwise. */
  tracing: { endpoint?: string; serviceName: string };
}
