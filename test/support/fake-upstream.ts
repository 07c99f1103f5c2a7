import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWireResponder, type RecordedRequest, type ResponderBehaviour } from '../../src/lib/llm/wire-responder.js';

export interface FakeUpstream {
  /** http://127.0.0.1:PORT/v1 */
  url: string;
  requests: RecordedRequest[];
  behave(behaviour: ResponderBehaviour): void;
  reset(): void;
  /** Chat streams being written right now. */
  openStreams(): number;
  /** The most requests in progress at once since the last reset. */
  peakRequests(): number;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function flushed(response: ServerResponse, chunk: Uint8Array, closed: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (closed.aborted) return resolve();
    closed.addEventListener('abort', () => resolve(), { once: true });
    response.write(chunk, () => resolve());
  });
}

/** An OpenAI-compatible server on a loopback port, with knobs for the failures providers have. */
export async function startFakeUpstream(): Promise<FakeUpstream> {
  let behaviour: ResponderBehaviour = {};
  const requests: RecordedRequest[] = [];
  let open = 0;
  let active = 0;
  let peak = 0;
  const respond = createWireResponder({ behaviour: () => behaviour, onRequest: (request) => requests.push(request) });

  async function handle(request: IncomingMessage, response: ServerResponse) {
    active += 1;
    peak = Math.max(peak, active);
    response.on('close', () => (active -= 1));
    const aborter = new AbortController();
    response.on('close', () => aborter.abort());
    const body = request.method === 'POST' ? await readBody(request) : undefined;
    const fetchRequest = new Request(`http://${request.headers.host}${request.url}`, {
      method: request.method,
      headers: Object.entries(request.headers).flatMap(([key, value]) => (typeof value === 'string' ? [[key, value] as [string, string]] : [])),
      body: body ? new Uint8Array(body) : undefined,
      signal: aborter.signal,
    });
    const answer = await respond(fetchRequest);
    response.writeHead(answer.status, Object.fromEntries(answer.headers));
    if (!answer.body) return response.end();
    const streaming = answer.headers.get('content-type')?.includes('event-stream');
    if (streaming) open += 1;
    try {
      for await (const chunk of answer.body as unknown as AsyncIterable<Uint8Array>) {
        if (aborter.signal.aborted) break;
        // Wait for each chunk to be flushed, so a deliberate drop loses nothing already sent; a client
        // that went away ends the wait too (the write's callback may then never come).
        await flushed(response, chunk, aborter.signal);
      }
      response.end();
    } catch {
      // The responder broke the stream on purpose: drop the connection mid-body.
      response.socket?.destroy();
    } finally {
      if (streaming) open -= 1;
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    behave(next) {
      behaviour = next;
    },
    reset() {
      behaviour = {};
      requests.length = 0;
      peak = active;
    },
    openStreams: () => open,
    peakRequests: () => peak,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
