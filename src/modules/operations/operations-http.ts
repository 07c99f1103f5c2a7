import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from './metrics.js';
import type { Readiness } from './readiness.js';

export interface OperationsEndpoints {
  readiness: Readiness;
  metrics: Metrics;
  config: { metricsToken?: string };
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compared in constant time, as digests so their lengths match. */
function authorized(request: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const header = request.headers.authorization ?? '';
  return header.startsWith('Bearer ') && timingSafeEqual(digest(header.slice('Bearer '.length)), digest(token));
}

async function serveMetrics(request: IncomingMessage, response: ServerResponse, { metrics, config }: OperationsEndpoints) {
  if (!authorized(request, config.metricsToken)) {
    response.writeHead(401, { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'text/plain' }).end('A bearer token is required.\n');
    return;
  }
  const text = await metrics.registry.metrics();
  response.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
  response.end(request.method === 'HEAD' ? undefined : text);
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
 * Probes and metrics for orchestrators and Prometheus: plain GET (or HEAD), no GraphQL, no CSRF header.
 * Returns false for any other path, which the caller then serves.
 */
export function serveOperations(request: IncomingMessage, response: ServerResponse, endpoints: OperationsEndpoints): boolean {
  const path = request.url?.split('?')[0];
  if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') return false;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD' }).end();
    return true;
  }
  if (path === '/healthz') sendJson(request, response, 200, { status: 'alive' });
  else if (path === '/metrics') serveMetrics(request, response, endpoints).catch(() => response.writeHead(500).end());
  else
    serveReadiness(request, response, endpoints.readiness).catch((error: unknown) =>
      sendJson(request, response, 503, { status: 'not ready', failed: ['readiness'], error: String(error) }),
    );
  return true;
}
