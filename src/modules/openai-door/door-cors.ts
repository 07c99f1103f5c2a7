import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The GraphQL endpoint's CORS policy on /v1, so browser clients of the OpenAI
 * SDK are let in or kept out alike: with ALLOWED_ORIGINS set only those origins
 * are answered, without it any origin is (as Yoga does by default).
 * Returns true when the request was a preflight, now answered.
 */
export function applyCors(request: IncomingMessage, response: ServerResponse, allowedOrigins: string[]): boolean {
  const origin = request.headers.origin;
  response.setHeader('vary', 'Origin');
  const allowed = origin !== undefined && (allowedOrigins.length === 0 || allowedOrigins.includes(origin));
  if (allowed) {
    response.setHeader('access-control-allow-origin', origin);
    response.setHeader('access-control-allow-credentials', 'true');
    response.setHeader('access-control-expose-headers', 'x-conversation-id, retry-after');
  }
  if (request.method !== 'OPTIONS') return false;
  if (allowed) {
    response.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    response.setHeader('access-control-allow-headers', request.headers['access-control-request-headers'] ?? 'authorization, content-type');
    response.setHeader('access-control-max-age', '600');
  }
  response.writeHead(204);
  response.end();
  return true;
}
