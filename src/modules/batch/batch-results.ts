import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { httpStatusByCode, unauthenticated, UserFacingError, forbidden } from '../../lib/errors.js';
import { headersFromConnection } from '../../lib/headers.js';
import { localize } from '../../graphql/messages.js';
import { decodeGlobalId } from '../../graphql/global-id.js';
import type { Services } from '../../services.js';
import { actorOf, viewerMay } from '../identity/actor.js';
import { isFinished } from './batch.service.js';

export const BATCH_RESULTS_PATH = /^\/batches\/([A-Za-z0-9_-]+)\/results\/?$/;

/**
 * GET /batches/<id>/results: the job's answers as JSONL, one line per request
 * in submission order, with the caller's usual credentials. Only the owner
 * sees a job; a job still running is 409.
 */
export async function serveBatchResults(services: Services, request: IncomingMessage, response: ServerResponse, globalId: string) {
  const headers = headersFromConnection(undefined, request.headers);
  const fail = (error: UserFacingError, status = httpStatusByCode[error.code]) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: { code: error.code, message: localize(error.messageKey, error.params, headers('accept-language')) } }));
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
    const job =
      decoded.typename === 'BatchJob' ? await services.db.prisma.batchJob.findFirst({ where: { id: decoded.id, ownerId: actorOf(viewer).userId } }) : null;
    if (!job) return fail(new UserFacingError('NOT_FOUND', 'notFound', { what: 'BatchJob', id: globalId }));
    if (!isFinished(job)) return fail(new UserFacingError('BAD_USER_INPUT', 'batch.notFinished', { status: job.status }), 409);

    response.writeHead(200, { 'content-type': 'application/jsonl; charset=utf-8', 'content-disposition': `attachment; filename="batch-${globalId}.jsonl"` });
    for await (const item of services.batch.results(job)) {
      const line = {
        custom_id: item.customId,
        status: item.status.toLowerCase(),
        response:
          item.status === 'SUCCEEDED'
            ? { model: job.modelId, content: item.response, usage: { input_tokens: item.inputTokens, output_tokens: item.outputTokens }, cost: item.cost }
            : null,
        error: item.errorCode ? { code: item.errorCode, message: item.errorMessage } : null,
      };
      if (!response.write(`${JSON.stringify(line)}\n`)) await once(response, 'drain');
    }
    response.end();
  } catch (error) {
    if (response.headersSent) return response.destroy(error as Error);
    if (error instanceof UserFacingError) return fail(error);
    services.logger.error({ err: error }, 'serving batch results failed');
    response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'INTERNAL_SERVER_ERROR' } }));
  }
}
