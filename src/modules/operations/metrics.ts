import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ProviderCallOutcome, ReplyObserver, SettledReply } from './reply-observer.js';

/** Read when Prometheus scrapes, so keeping them current costs nothing in between. */
export interface MetricSources {
  activeReplies(): number;
  subscribers(): number;
  databasePool(): { total: number; idle: number; waiting: number } | undefined;
}

const seconds = (ms: number) => ms / 1_000;

/** Error codes that mean a caller was refused for its limits or its balance. */
const refusalCodes: Record<string, string> = {
  RATE_LIMITED: 'rate_limit',
  FREE_LIMIT_EXCEEDED: 'free_allowance',
  INSUFFICIENT_CREDITS: 'credits',
};

export function createMetrics(sources: MetricSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const registers = [registry];

  const operations = new Counter({
    name: 'gateway_graphql_operations_total',
    help: 'GraphQL operations run, by type and root field',
    labelNames: ['type', 'operation'],
    registers,
  });
  const errors = new Counter({
    name: 'gateway_graphql_errors_total',
    help: 'Errors returned by GraphQL operations, by root field and error code',
    labelNames: ['type', 'operation', 'code'],
    registers,
  });
  const refusals = new Counter({
    name: 'gateway_refusals_total',
    help: 'Requests refused for a rate limit, the free allowance or credits',
    labelNames: ['reason'],
    registers,
  });
  const replies = new Counter({
    name: 'gateway_replies_total',
    help: 'Replies settled, by the model that answered, its provider and the final status',
    labelNames: ['model', 'provider', 'status'],
    registers,
  });
  const tokens = new Counter({
    name: 'gateway_reply_tokens_total',
    help: 'Tokens of settled replies, by kind (input, output, reasoning)',
    labelNames: ['model', 'provider', 'kind'],
    registers,
  });
  const cost = new Counter({
    name: 'gateway_reply_cost_usd_total',
    help: 'Cost of settled replies in USD, at catalog prices',
    labelNames: ['model', 'provider'],
    registers,
  });
  const firstToken = new Histogram({
    name: 'gateway_reply_time_to_first_token_seconds',
    help: 'From the provider call to the first answer token',
    labelNames: ['model', 'provider'],
    buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30],
    registers,
  });
  const duration = new Histogram({
    name: 'gateway_reply_duration_seconds',
    help: 'From the provider call to the reply settling',
    labelNames: ['model', 'provider', 'status'],
    buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 40, 80, 160, 320],
    registers,
  });
  const providerRetries = new Counter({
    name: 'gateway_provider_retries_total',
    help: 'Provider calls retried after a transient failure before the first token, by the model the reply asked for',
    labelNames: ['requested_model'],
    registers,
  });
  const fallbacks = new Counter({
    name: 'gateway_provider_fallbacks_total',
    help: 'Replies answered (or last tried) by a fallback model instead of the requested one',
    labelNames: ['requested_model', 'model'],
    registers,
  });
  new Gauge({
    name: 'gateway_active_replies',
    help: 'Replies streaming from a provider on this instance',
    registers,
    collect() {
      this.set(sources.activeReplies());
    },
  });
  new Gauge({
    name: 'gateway_stream_subscribers',
    help: 'Subscribers following a reply stream on this instance',
    registers,
    collect() {
      this.set(sources.subscribers());
    },
  });
  new Gauge({
    name: 'gateway_database_pool_connections',
    help: 'Database pool connections by state (total, idle, waiting for one)',
    labelNames: ['state'],
    registers,
    collect() {
      const pool = sources.databasePool();
      if (!pool) return;
      for (const [state, value] of Object.entries(pool)) this.set({ state }, value);
    },
  });

  const observer: ReplyObserver = {
    providerCall({ requestedModel, model, retries }: ProviderCallOutcome) {
      if (retries > 0) providerRetries.inc({ requested_model: requestedModel }, retries);
      if (model !== requestedModel) fallbacks.inc({ requested_model: requestedModel, model });
    },
    replySettled(reply: SettledReply) {
      const { model, provider } = reply;
      replies.inc({ model, provider, status: reply.status });
      tokens.inc({ model, provider, kind: 'input' }, reply.inputTokens);
      tokens.inc({ model, provider, kind: 'output' }, reply.outputTokens);
      if (reply.reasoningTokens) tokens.inc({ model, provider, kind: 'reasoning' }, reply.reasoningTokens);
      cost.inc({ model, provider }, reply.cost);
      if (reply.timeToFirstTokenMs !== null) firstToken.observe({ model, provider }, seconds(reply.timeToFirstTokenMs));
      duration.observe({ model, provider, status: reply.status }, seconds(reply.latencyMs));
    },
  };

  return {
    registry,
    observer,
    /** A GraphQL result (or one event of a subscription): `operation` is its root field, so labels stay bounded by the schema. */
    operationRan(type: string, operation: string, errorCodes: string[], first = true) {
      if (first) operations.inc({ type, operation });
      for (const code of errorCodes) {
        errors.inc({ type, operation, code });
        const reason = refusalCodes[code];
        if (reason) refusals.inc({ reason });
      }
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
