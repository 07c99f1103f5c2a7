/** How the gateway treats slow and failing providers. */
export interface UpstreamPolicy {
  /** Until the provider answers with headers. */
  connectTimeoutMs: number;
  /** From the request until the first token. */
  firstTokenTimeoutMs: number;
  /** Longest silence between chunks once tokens flow. */
  idleTimeoutMs: number;
  /** The whole reply, retries included. */
  totalTimeoutMs: number;
  /** Retries per model, only before the first token and only for transient failures. */
  maxRetries: number;
  /** Cap on a provider's Retry-After. */
  maxRetryAfterMs: number;
  /** First backoff when the provider gives no Retry-After; doubles per retry. */
  retryBaseMs: number;
}

export const defaultUpstreamPolicy: UpstreamPolicy = {
  connectTimeoutMs: 15_000,
  firstTokenTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  totalTimeoutMs: 10 * 60_000,
  maxRetries: 2,
  maxRetryAfterMs: 10_000,
  retryBaseMs: 250,
};
