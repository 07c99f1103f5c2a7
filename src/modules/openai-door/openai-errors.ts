import { type ErrorCode, UserFacingError } from '../../lib/errors.js';
import { localize } from '../../graphql/messages.js';

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface OpenAIErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: OpenAIErrorBody;
}

/** OpenAI's status, type and code for each of the gateway's error codes. */
const shapes: Record<ErrorCode, { status: number; type: string; code: string | null }> = {
  UNAUTHENTICATED: { status: 401, type: 'invalid_request_error', code: 'invalid_api_key' },
  FORBIDDEN: { status: 403, type: 'permission_error', code: 'forbidden' },
  BAD_USER_INPUT: { status: 400, type: 'invalid_request_error', code: null },
  NOT_FOUND: { status: 404, type: 'invalid_request_error', code: 'not_found' },
  RATE_LIMITED: { status: 429, type: 'requests', code: 'rate_limit_exceeded' },
  // 402 rather than OpenAI's 429: its SDKs retry a 429, and no retry brings credits back.
  FREE_LIMIT_EXCEEDED: { status: 402, type: 'insufficient_quota', code: 'insufficient_quota' },
  INSUFFICIENT_CREDITS: { status: 402, type: 'insufficient_quota', code: 'insufficient_quota' },
  MODEL_NOT_ALLOWED: { status: 403, type: 'permission_error', code: 'model_not_allowed' },
  CONTEXT_TOO_LONG: { status: 400, type: 'invalid_request_error', code: 'context_length_exceeded' },
  PAYLOAD_TOO_LARGE: { status: 413, type: 'invalid_request_error', code: 'payload_too_large' },
  PROVIDER_ERROR: { status: 502, type: 'api_error', code: 'provider_error' },
  PROVIDER_UNAVAILABLE: { status: 503, type: 'api_error', code: 'provider_unavailable' },
};

/** An error a client may see, in OpenAI's shape, with the message in the caller's language. */
export function openAIError(error: UserFacingError, acceptLanguage: string | undefined): OpenAIErrorResponse {
  const shape = shapes[error.code];
  const unknownModel = error.messageKey === 'input.unknownModel';
  const param = typeof error.extensions.param === 'string' ? error.extensions.param : unknownModel ? 'model' : null;
  const retryAfter = error.extensions.retryAfter;
  return {
    status: unknownModel ? 404 : shape.status,
    headers: typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {},
    body: {
      error: {
        message: localize(error.messageKey, error.params, acceptLanguage),
        type: shape.type,
        param,
        code: unknownModel ? 'model_not_found' : (shape.code ?? (param ? 'invalid_value' : null)),
      },
    },
  };
}

/** What a reply that failed in the provider says, inside a stream or as a response. */
export function replyFailure(message: string | null, code: string | null): OpenAIErrorResponse {
  return {
    status: 502,
    headers: {},
    body: { error: { message: message ?? 'The model failed to answer.', type: 'api_error', param: null, code: code?.toLowerCase() ?? 'provider_error' } },
  };
}

export const internalError = (requestId: string): OpenAIErrorResponse => ({
  status: 500,
  headers: {},
  body: { error: { message: `Internal error (request ${requestId}).`, type: 'api_error', param: null, code: 'internal_error' } },
});

export { UserFacingError };
