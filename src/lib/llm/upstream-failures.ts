import OpenAI from 'openai';
import type { UpstreamPolicy } from './upstream-policy.js';

export type TimeoutKind = 'first-token' | 'idle' | 'total';

export class UpstreamTimeout extends Error {
  constructor(
    readonly kind: TimeoutKind,
    ms: number,
  ) {
    super(
      kind === 'first-token'
        ? `No first token within ${ms} ms.`
        : kind === 'idle'
          ? `The provider sent nothing for ${ms} ms.`
          : `The reply took longer than ${ms} ms.`,
    );
  }
}

export interface UpstreamFailure {
  code: string;
  message: string;
}

/** A connection that broke while the body was being read (undici reports it as a TypeError). */
const isBrokenConnection = (error: unknown) =>
  error instanceof TypeError && /terminated|socket|ECONNRESET/i.test(`${error.message} ${String(error.cause ?? '')}`);

/** Failures worth another try before anything arrived: the connection, a timeout to first token, 408, 409, 429 and 5xx. */
export function isTransient(error: unknown): boolean {
  if (error instanceof UpstreamTimeout) return error.kind === 'first-token';
  if (error instanceof OpenAI.APIConnectionError || isBrokenConnection(error)) return true;
  const status = error instanceof OpenAI.APIError ? error.status : undefined;
  return status === 408 || status === 409 || status === 429 || (status !== undefined && status >= 500);
}

/** The provider's Retry-After (seconds, a date, or retry-after-ms), capped; else exponential backoff with jitter. */
export function retryDelay(error: unknown, attempt: number, policy: UpstreamPolicy, now: number): number {
  const headers = error instanceof OpenAI.APIError ? error.headers : undefined;
  const milliseconds = Number(headers?.get('retry-after-ms'));
  const header = headers?.get('retry-after');
  let asked = Number.isFinite(milliseconds) && milliseconds > 0 ? milliseconds : undefined;
  if (asked === undefined && header) asked = /^\d+(\.\d+)?$/.test(header) ? Number(header) * 1000 : Date.parse(header) - now;
  if (asked !== undefined && Number.isFinite(asked)) return Math.min(Math.max(asked, 0), policy.maxRetryAfterMs);
  return policy.retryBaseMs * 2 ** attempt + Math.random() * policy.retryBaseMs;
}

const interrupted = { code: 'STREAM_INTERRUPTED', message: 'The provider closed the stream before the reply was complete.' };

export function describeFailure(error: unknown, receivedAnything: boolean): UpstreamFailure {
  if (error instanceof UpstreamTimeout) return { code: 'UPSTREAM_TIMEOUT', message: error.message };
  if (isBrokenConnection(error)) return interrupted;
  if (error instanceof OpenAI.APIConnectionError) {
    return receivedAnything ? interrupted : { code: 'PROVIDER_UNAVAILABLE', message: 'The provider could not be reached.' };
  }
  if (error instanceof OpenAI.APIError && error.status) {
    return { code: 'PROVIDER_ERROR', message: `The provider answered HTTP ${error.status}: ${error.message}` };
  }
  if (receivedAnything) return interrupted;
  return { code: 'PROVIDER_ERROR', message: error instanceof Error ? error.message : 'Unknown provider failure.' };
}
