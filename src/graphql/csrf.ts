import type { Plugin } from 'graphql-yoga';
import { forbidden } from '../lib/errors.js';
import { graphqlErrorFrom } from './errors.js';

/** Content types a browser may post without a CORS preflight. */
const SIMPLE_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/**
 * Browsers send "simple" requests (GET, forms, multipart, text/plain) without a CORS preflight;
 * requiring one of these headers forces the preflight, so another site cannot post on a user's behalf.
 * A GET without a Cookie header carries no ambient credential (the API authenticates by header only),
 * so urql's GET queries and EventSource subscriptions pass; Yoga refuses mutations over GET itself.
 * The refusal is a FORBIDDEN error like any other: a code, a localized message, HTTP 403.
 */
export function useCSRFPrevention(requestHeaders: string[]): Plugin {
  return {
    onRequestParse({ request }) {
      if (request.method === 'GET' && !request.headers.has('cookie')) return;
      const contentType = request.headers.get('content-type')?.toLowerCase();
      if (contentType && !SIMPLE_CONTENT_TYPES.some((simple) => contentType.startsWith(simple))) return;
      if (requestHeaders.some((name) => request.headers.has(name))) return;
      throw graphqlErrorFrom(forbidden('csrf.preflightRequired'), request.headers.get('accept-language') ?? undefined);
    },
  };
}
