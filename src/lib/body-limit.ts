import type { IncomingMessage, ServerResponse } from 'node:http';

/** Multipart uploads have their own, per-file limits. */
export const isMultipart = (request: IncomingMessage) => request.headers['content-type']?.startsWith('multipart/form-data') ?? false;

/** The refusal in the shape the endpoint's clients read: OpenAI's under /v1, GraphQL's elsewhere. */
function tooLargeBody(url: string | undefined, maxBytes: number) {
  const message = `Request bodies are limited to ${maxBytes} bytes.`;
  if (url?.startsWith('/v1/')) return { error: { message, type: 'invalid_request_error', param: null, code: 'request_too_large' } };
  return { errors: [{ message, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] };
}

export function refuseTooLarge(request: IncomingMessage, response: ServerResponse, maxBytes: number) {
  response.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
  response.end(JSON.stringify(tooLargeBody(request.url, maxBytes)));
  // Whatever else arrives is discarded; the connection closes once the answer is out.
  request.resume();
}

/**
 * A body sent without Content-Length (chunked) is read here, counting its bytes as they arrive,
 * and handed on whole; resolves false, having answered 413, once it grows past the limit.
 */
export function readBodyWithin(request: IncomingMessage, response: ServerResponse, maxBytes: number): Promise<boolean> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= maxBytes) return void chunks.push(chunk);
      request.off('data', onData).off('end', onEnd);
      refuseTooLarge(request, response, maxBytes);
      resolve(false);
    };
    const onEnd = () => {
      // The fetch adapter takes a body already read from here rather than from the consumed stream.
      (request as IncomingMessage & { body?: Buffer }).body = Buffer.concat(chunks);
      resolve(true);
    };
    request.on('data', onData).on('end', onEnd);
    request.once('error', () => resolve(false));
  });
}
