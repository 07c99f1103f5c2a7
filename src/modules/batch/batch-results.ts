import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UserFacingError } from '../../lib/errors.js';
import { decodeGlobalId } from '../../graphql/global-id.js';
import type { Services } from '../../services.js';
import { serveAuthenticatedGet } from '../identity/authenticated-get.js';
import { isFinished } from './batch.service.js';

export const BATCH_RESULTS_PATH = /^\/batches\/([A-Za-z0-9_-]+)\/results\/?$/;

/**
 * GET /batches/<id>/results: the job's answers as JSONL, one line per request
 * in submission order, with the caller's usual credentials. Only the owner
 * sees a job; a job still running is 409.
 */
export function serveBatchResults(services: Services, request: IncomingMessage, response: ServerResponse, globalId: string) {
  return serveAuthenticatedGet(services, request, response, 'batch results', async ({ actor, refuse }) => {
    const decoded = decodeGlobalId(globalId);
    const job = decoded.typename === 'BatchJob' ? await services.db.prisma.batchJob.findFirst({ where: { id: decoded.id, ownerId: actor.userId } }) : null;
    if (!job) return refuse(new UserFacingError('NOT_FOUND', 'notFound', { what: 'BatchJob', id: globalId }));
    if (!isFinished(job)) return refuse(new UserFacingError('BAD_USER_INPUT', 'batch.notFinished', { status: job.status }), 409);

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
  });
}
