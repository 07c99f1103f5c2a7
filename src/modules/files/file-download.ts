import type { IncomingMessage, ServerResponse } from 'node:http';
import { UserFacingError } from '../../lib/errors.js';
import { decodeGlobalId } from '../../graphql/global-id.js';
import type { Services } from '../../services.js';
import { openSealedBytes } from '../encryption/sealed-bytes.js';
import { serveAuthenticatedGet } from '../identity/authenticated-get.js';

export const FILE_DOWNLOAD_PATH = /^\/files\/([A-Za-z0-9_-]+)\/?$/;

/** Where a stored file downloads from (UploadedFile.url). */
export const fileDownloadUrl = (origin: string, globalId: string) => `${origin}/files/${globalId}`;

/**
 * GET /files/<id>: a stored file's bytes (uploads, fetched URLs, generated
 * images, exports) with the caller's usual credentials. Only the owner sees a
 * file; anyone else gets the same 404 as for a file that never existed. A file
 * sealed for an encrypted conversation opens with the x-encryption-secret header.
 */
export function serveFileDownload(services: Services, request: IncomingMessage, response: ServerResponse, globalId: string) {
  return serveAuthenticatedGet(services, request, response, 'a file', async ({ actor, headers, refuse }) => {
    const decoded = decodeGlobalId(globalId);
    const found = decoded.typename === 'UploadedFile' ? await services.files.download(actor, decoded.id) : null;
    const missing = () => refuse(new UserFacingError('NOT_FOUND', 'notFound', { what: 'UploadedFile', id: globalId }));
    if (!found) return missing();
    const bytes = found.file.sealedFor
      ? await openSealedBytes({ ...services, prisma: services.db.prisma }, actor, found.file.sealedFor, found.bytes, headers('x-encryption-secret'))
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
  });
}
