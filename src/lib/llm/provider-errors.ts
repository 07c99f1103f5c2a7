import OpenAI from 'openai';
import { UserFacingError } from '../errors.js';

/** A provider call that failed, as the caller should see it: PROVIDER_UNAVAILABLE when unreachable, else PROVIDER_ERROR. */
export function providerFailure(error: unknown): UserFacingError {
  if (error instanceof UserFacingError) return error;
  if (error instanceof OpenAI.APIConnectionError) {
    return new UserFacingError('PROVIDER_UNAVAILABLE', 'provider.error', { detail: 'the provider could not be reached' });
  }
  const detail = error instanceof OpenAI.APIError && error.status ? `HTTP ${error.status}` : 'unexpected answer';
  return new UserFacingError(
    'PROVIDER_ERROR',
    'provider.error',
    { detail },
    error instanceof OpenAI.APIError && error.status ? { providerStatus: error.status } : {},
  );
}
