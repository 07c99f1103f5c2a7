import type { IncomingMessage, ServerResponse } from 'node:http';
import { forbidden, httpStatusByCode, unauthenticated, UserFacingError } from '../../lib/errors.js';
import { headersFromConnection } from '../../lib/headers.js';
import { localize } from '../../graphql/messages.js';
import { decodeGlobalId } from '../../graphql/global-id.js';
import type { Services } from '../../services.js';
import { openSealedBytes } from '../encryption/sealed-bytes.js';
import { actorOf, viewerMay } from '../identity/actor.js';

export const FILE_DOWNLOAD_PATH = /^\/files\/([A-Za-z0-9_-]+)\/?$/;

/** Where a stored file downloads from (UploadedFile.url). */
export const fileDownloadUrl = (origin: string, globalId: string) => `${origin}/files/${globalId}`;

/**
 * GET /files/<id>: a stored file's bytes (uploads, fetched URLs, generated
 * images, exports) with the caller's usual credentials. Only the owner sees a
 * file; anyone else gets the same 404 as for a file that never existed. A file
 * sealed for an encrypted conversation opens with the x-encryption-secret header.
 */
export async function serveFileDownload(services: Services, request: IncomingMessage, response: ServerResponse, globalId: string) {
  const headers = headersFromConnection(undefined, request.headers);
  const fail = (error: UserFacingError) => {
    response.writeHead(httpStatusByCode[error.code], { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        error: { ...error.extensions, code: error.code, key: error.messageKey, message: localize(error.messageKey, error.params, headers('accept-language')) },
      }),
    );
  };
  try {
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    const viewer = await services.identity.resolveViewer(headers);
    if (!viewer) return fail(unauthenticated());
    if (!viewerMay(viewer, 'read')) return fail(forbidden('auth.forbidden'));
    const decoded = decodeGlobalId(globalId);
    const found = decoded.typename === 'UploadedFile' ? await services.files.download(actorOf(viewer), decoded.id) : null;
    const missing = () => fail(new UserFacingError('NOT_FOUND', 'notFound', { what: 'UploadedFile', id: globalId }));
    if (!found) return missing();
    const bytes = found.file.sealedFor
      ? await openSealedBytes({ ...services, prisma: services.db.prisma }, actorOf(viewer), found.file.sealedFor, found.bytes, headers('x-encryption-secret'))
      : found.bytes;
    if (!bytes) return missing();
    response.writeHead(200, {
      'content-type': found.file.mimeType,
      'content-length': bytes.byteLength,
      'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(found.file.filename)}`,
      'x-content-type-options': 'nosniff',
      'cache-control': 'private, no-store',
    });
    response.end(bytes);
  } catch (error) {
    if (response.headersSent) return response.destroy(error as Error);
    if (error instanceof UserFacingError) return fail(error);
    services.logger.error({ err: error }, 'serving a file failed');
    response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'INTERNAL_SERVER_ERROR' } }));
  }
}
