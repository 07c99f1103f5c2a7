import type { IncomingMessage, ServerResponse } from 'node:http';
import { localize } from '../../graphql/messages.js';
import { forbidden, httpStatusByCode, unauthenticated, UserFacingError } from '../../lib/errors.js';
import { type HeaderSource, headersFromConnection } from '../../lib/headers.js';
import type { Services } from '../../services.js';
import { type Actor, actorOf, type Viewer, viewerMay } from './actor.js';

export interface AuthenticatedGet {
  actor: Actor;
  viewer: Viewer;
  headers: HeaderSource;
  /** Answers the refusal (its code's status unless another is given). */
  refuse(error: UserFacingError, status?: number): void;
}

/**
 * A plain-HTTP GET with the caller's usual credentials (downloads, results):
 * 405 for other methods, 401/403 as GraphQL answers them, a UserFacingError
 * thrown by `serve` as its status with a localized `{ error: { code, message } }`.
 */
export async function serveAuthenticatedGet(
  services: Services,
  request: IncomingMessage,
  response: ServerResponse,
  what: string,
  serve: (caller: AuthenticatedGet) => Promise<void>,
) {
  const headers = headersFromConnection(undefined, request.headers);
  const fail = (error: UserFacingError, status = httpStatusByCode[error.code]) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    const message = localize(error.messageKey, error.params, headers('accept-language'));
    response.end(JSON.stringify({ error: { ...error.extensions, code: error.code, key: error.messageKey, message } }));
  };
  try {
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    const viewer = await services.identity.resolveViewer(headers);
    if (!viewer) return fail(unauthenticated());
    if (!viewerMay(viewer, 'read')) return fail(forbidden('auth.forbidden'));
    await serve({ actor: actorOf(viewer), viewer, headers, refuse: fail });
  } catch (error) {
    if (response.headersSent) return response.destroy(error as Error);
    if (error instanceof UserFacingError) return fail(error);
    services.logger.error({ err: error }, `serving ${what} failed`);
    response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'INTERNAL_SERVER_ERROR' } }));
  }
}
