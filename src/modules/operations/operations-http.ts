import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readiness } from './readiness.js';

export interface OperationsEndpoints {
  readiness: Readiness;
}

function sendJson(request: IncomingMessage, response: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  response.end(request.method === 'HEAD' ? undefined : text);
}

async function serveReadiness(request: IncomingMessage, response: ServerResponse, readiness: Readiness) {
  const { ready, checks } = await readiness.report();
  const failed = Object.entries(checks)
    .filter(([, result]) => result !== 'ok')
    .map(([name]) => name);
  sendJson(request, response, ready ? 200 : 503, ready ? { status: 'ready', checks } : { status: 'not ready', failed, checks });
}

/**
 * Probes for orchestrators: plain GET (or HEAD), no GraphQL, no CSRF header.
 * Returns false for any other path, which the caller then serves.
 */
export function serveOperations(request: IncomingMessage, response: ServerResponse, endpoints: OperationsEndpoints): boolean {
  const path = request.url?.split('?')[0];
  if (path !== '/healthz' && path !== '/readyz') return false;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD' }).end();
    return true;
  }
  if (path === '/healthz') sendJson(request, response, 200, { status: 'alive' });
  else
    serveReadiness(request, response, endpoints.readiness).catch((error: unknown) =>
      sendJson(request, response, 503, { status: 'not ready', failed: ['readiness'], error: String(error) }),
    );
  return true;
}
