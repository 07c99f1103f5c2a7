/**
 * Errors a client is allowed to see. Services throw these; the GraphQL layer
 * turns them into localized errors with `extensions.code` and an HTTP status.
 * Anything else that escapes a resolver is masked.
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'FREE_LIMIT_EXCEEDED'
  | 'INSUFFICIENT_CREDITS'
  | 'MODEL_NOT_ALLOWED'
  | 'CONTEXT_TOO_LONG'
  | 'PAYLOAD_TOO_LARGE'
  | 'PROVIDER_ERROR'
  | 'PROVIDER_UNAVAILABLE';

export const httpStatusByCode: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  FREE_LIMIT_EXCEEDED: 429,
  INSUFFICIENT_CREDITS: 402,
  MODEL_NOT_ALLOWED: 403,
  CONTEXT_TOO_LONG: 400,
  PAYLOAD_TOO_LARGE: 413,
  PROVIDER_ERROR: 502,
  PROVIDER_UNAVAILABLE: 503,
};

export type MessageParams = Record<string, string | number>;

export class UserFacingError extends Error {
  constructor(
    readonly code: ErrorCode,
    /** Key into the message catalog; the English text is the fallback. */
    readonly messageKey: string,
    readonly params: MessageParams = {},
    /** Extra machine-readable fields for clients (retryAfter, limit, ...). */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(messageKey);
    this.name = 'UserFacingError';
  }
}

export const unauthenticated = (key = 'auth.required', params?: MessageParams) => new UserFacingError('UNAUTHENTICATED', key, params);
export const forbidden = (key: string, params?: MessageParams) => new UserFacingError('FORBIDDEN', key, params);
export const badInput = (key: string, params?: MessageParams, extensions?: Record<string, unknown>) =>
  new UserFacingError('BAD_USER_INPUT', key, params, extensions);
export const notFound = (what: string, id: string) => new UserFacingError('NOT_FOUND', 'notFound', { what, id });
