import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UserFacingError, badInput } from '../../lib/errors.js';
import { type HeaderSource, headersFromConnection } from '../../lib/headers.js';
import type { Services } from '../../services.js';
import { applyCors } from './door-cors.js';
import { chunkMaker, pendingCallsOf } from './chat-completion-response.js';
import { internalError, type OpenAIErrorResponse, openAIError, replyFailure } from './openai-errors.js';
import { createOpenAIDoor, type OpenAIDoor, type StreamedCompletion } from './openai-door.service.js';

export const OPENAI_PREFIX = '/v1/';

async function jsonBody(request: IncomingMessage): Promise<unknown> {
  // A chunked body was already read (and counted against the size limit) before routing.
  const read = (request as IncomingMessage & { body?: Buffer }).body;
  let raw = read?.toString('utf8');
  if (raw === undefined) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    raw = Buffer.concat(chunks).toString('utf8');
  }
  try {
    return JSON.parse(raw);
  } catch {
    throw badInput('openai.badJson');
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}

const sendError = (response: ServerResponse, error: OpenAIErrorResponse) => sendJson(response, error.status, error.body, error.headers);

/** Writes one server-sent event, waiting while the client reads slower than the reply streams. */
async function writeEvent(response: ServerResponse, data: unknown) {
  if (response.destroyed || response.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`)) return;
  if (response.destroyed) return;
  await Promise.race([once(response, 'drain'), once(response, 'close')]);
}

/** A streamed reply in OpenAI's chunk format, ended by `data: [DONE]`; a reply that fails ends with an error event. */
async function streamReply(door: OpenAIDoor, response: ServerResponse, streamed: StreamedCompletion) {
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-conversation-id': door.conversationHeader(streamed.conversationId),
  });
  const chunks = chunkMaker(streamed.reply, streamed.model);
  await writeEvent(response, chunks.start());
  let finished = false;
  for await (const event of streamed.events) {
    // A client that went away stops following at the next event; the reply still finishes and is stored.
    if (response.destroyed) break;
    if (event.type === 'TokenDelta') await writeEvent(response, chunks.content(event.delta));
    else if (event.type === 'ReasoningDelta') await writeEvent(response, chunks.reasoning(event.delta));
    else if (event.type === 'MessageFinished') finished = true;
  }
  if (!finished || response.destroyed) return void response.end();
  const reply = await door.finishedReply(streamed.reply.id);
  if (reply.status === 'FAILED') {
    await writeEvent(response, replyFailure(reply.errorMessage, reply.errorCode).body);
    return void response.end();
  }
  const calls = pendingCallsOf(reply);
  for (const [index, call] of calls.entries()) await writeEvent(response, chunks.toolCall(call, index));
  await writeEvent(response, chunks.finish(calls.length ? 'tool_calls' : 'stop'));
  if (streamed.includeUsage) await writeEvent(response, chunks.usage(door.usageOf(reply)));
  await writeEvent(response, '[DONE]');
  response.end();
}

async function chatCompletions(door: OpenAIDoor, request: IncomingMessage, response: ServerResponse, headers: HeaderSource) {
  const { actor } = await door.caller(headers, 'chat');
  const body = await jsonBody(request);
  if ((body as { stream?: unknown } | null)?.stream === true) return streamReply(door, response, await door.stream(actor, headers, body));
  const { conversationId, reply, completion } = await door.complete(actor, headers, body);
  if (reply.status === 'FAILED') return sendError(response, replyFailure(reply.errorMessage, reply.errorCode));
  sendJson(response, 200, completion, { 'x-conversation-id': door.conversationHeader(conversationId) });
}

async function route(door: OpenAIDoor, request: IncomingMessage, response: ServerResponse, headers: HeaderSource) {
  const path = (request.url ?? '').split('?')[0]!.slice(OPENAI_PREFIX.length - 1);
  const method = request.method ?? 'GET';
  if (method === 'POST' && path === '/chat/completions') return chatCompletions(door, request, response, headers);
  if (method === 'POST' && path === '/embeddings') {
    const { actor } = await door.caller(headers, 'chat');
    return sendJson(response, 200, await door.embed(actor, await jsonBody(request)));
  }
  if (method === 'GET' && path === '/models') return sendJson(response, 200, door.models((await door.caller(headers, 'read')).viewer));
  if (method === 'GET' && path.startsWith('/models/')) {
    const { viewer } = await door.caller(headers, 'read');
    return sendJson(response, 200, door.model(viewer, decodeURIComponent(path.slice('/models/'.length))));
  }
  throw new UserFacingError('NOT_FOUND', 'openai.noRoute', { method, path: `/v1${path}` });
}

/** The OpenAI-compatible endpoints under /v1: thin handlers over the door's service, errors in OpenAI's shape. */
export function createOpenAIDoorHandler(services: Services) {
  const door = createOpenAIDoor(services);
  return async (request: IncomingMessage, response: ServerResponse) => {
    if (applyCors(request, response, services.config.allowedOrigins)) return;
    const headers = headersFromConnection(undefined, request.headers);
    try {
      await route(door, request, response, headers);
    } catch (error) {
      if (response.headersSent) {
        services.logger.error({ err: error }, 'OpenAI-compatible stream failed');
        return void response.end();
      }
      if (error instanceof UserFacingError) return sendError(response, openAIError(error, headers('accept-language')));
      const requestId = headers('x-request-id') ?? crypto.randomUUID();
      services.logger.error({ err: error, requestId }, 'OpenAI-compatible request failed');
      sendError(response, internalError(requestId));
    }
  };
}
