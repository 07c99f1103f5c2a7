import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { eventually } from '../support/harness.js';
import { execute, startServerProcess } from '../support/processes.js';
import { HEALTH } from '../support/operations.js';

// The real entry point with OTEL_EXPORTER_OTLP_ENDPOINT: its spans reach the collector over OTLP/HTTP.
const received: Array<{ path: string; type: string; body: string }> = [];
let collector: Server;
let endpoint: string;
beforeAll(async () => {
  collector = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', type: request.headers['content-type'] ?? '', body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => collector.close(resolve)));

test('spans of an operation are exported to <endpoint>/v1/traces, in the client trace, by shutdown at the latest', async () => {
  const server = await startServerProcess({ DATA_DIR: 'memory://', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'gateway-under-test' });
  try {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const result = await execute(server.url, { 'x-device-id': 'otlp-test', traceparent: `00-${traceId}-b7ad6b7169203331-01` }, HEALTH);
    expect(result.errors).toBeUndefined();
    expect(await server.stop()).toBe(0);
  } finally {
    if (server.child.exitCode === null) await server.kill();
  }
  const exported = await eventually(() => received.find((request) => request.body.includes('graphql.query health')));
  expect(exported.path).toBe('/v1/traces');
  expect(exported.body).toContain('gateway-under-test');
  expect(exported.body).toContain('0af7651916cd43dd8448eb211c80319c');
}, 90_000);
