import { randomUUID } from 'node:crypto';
import { type DocumentNode, GraphQLError, getOperationAST } from 'graphql';
import { TOKEN_HEADER_KEY, TOKEN_QUERY_KEY } from 'graphql-sse';
import { createHandler } from 'graphql-sse/lib/use/fetch';
import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import { localize } from './messages.js';
import { type PersistedOperations, persistedQueryOf } from './persisted-operations.js';
import { createSseReservations } from './sse-reservations.js';

/**
 * Requests of graphql-sse's single-connection mode: the PUT that reserves a
 * stream, and the stream, operations and completions that carry its token.
 * Yoga itself serves the distinct-connections mode (a POST or GET per operation).
 */
function isSingleConnectionRequest(request: Request): boolean {
  if (request.method === 'PUT') return true;
  if (request.headers.has(TOKEN_HEADER_KEY)) return true;
  return new URL(request.url).searchParams.has(TOKEN_QUERY_KEY);
}

// graphql-sse takes a result for one only with a `data` key.
const refused = (errors: readonly GraphQLError[]) => ({ data: null, errors });

/** A refusal as the operation's result; the HTTP status and headers meant for plain requests are left out. */
function errorsOnly(error: unknown) {
  if (!(error instanceof GraphQLError)) throw error;
  const { http: _http, ...extensions } = error.extensions;
  return refused([new GraphQLError(error.message, { extensions })]);
}

/**
 * The full GraphQL over Server-Sent Events protocol on the GraphQL endpoint:
 * operations run through the same envelope as any other (context and
 * credentials, query limits, persisted operations, error masking). A refused
 * document or credential is an error result for that operation, not a broken stream.
 * The reservations live in this process: behind several instances, route a
 * token's requests to one of them (sticky sessions) or use distinct connections.
 */
export function useGraphQLSSESingleConnection(
  endpoint: string,
  persisted: PersistedOperations | null,
  limits: { reservationTtlMs: number; maxReservations: number },
): Plugin {
  let handler: ((request: Request) => Promise<Response>) | undefined;
  const serverContextOf = new WeakMap<Request, Record<string, unknown>>();
  // An unopened reservation is dropped by opening its stream and cancelling it at once.
  const dropReservation = async (token: string) => {
    const request = new Request(`http://localhost${endpoint}`, { headers: { accept: 'text/event-stream', [TOKEN_HEADER_KEY]: token } });
    const response = await handler?.(request);
    await response?.body?.cancel();
  };
  const reservations = createSseReservations({
    ttlMs: limits.reservationTtlMs,
    max: limits.maxReservations,
    drop: (token) => void dropReservation(token).catch(() => undefined),
  });
  return {
    onYogaInit({ yoga }) {
      handler = createHandler(
        {
          // A reservation always gets a fresh token: the client sends its previous one again when it reconnects.
          authenticate: (request) =>
            request.method === 'PUT'
              ? randomUUID()
              : (request.headers.get(TOKEN_HEADER_KEY) ?? new URL(request.url).searchParams.get(TOKEN_QUERY_KEY) ?? randomUUID()),
          async onSubscribe(request, params) {
            const enveloped = yoga.getEnveloped({
              ...serverContextOf.get(request.raw),
              request: request.raw,
              params,
            } as unknown as YogaInitialContext);
            const query = persistedQueryOf(persisted, params as never);
            if (query instanceof GraphQLError) return refused([query]);
            let document: DocumentNode;
            try {
              document = enveloped.parse(query);
              const errors = enveloped.validate(enveloped.schema, document);
              if (errors.length > 0) return refused(errors);
            } catch (error) {
              return errorsOnly(error);
            }
            let contextValue: unknown;
            try {
              contextValue = await enveloped.contextFactory();
            } catch (error) {
              return errorsOnly(error);
            }
            const args = { schema: enveloped.schema, document, contextValue, variableValues: params.variables, operationName: params.operationName };
            const operation = getOperationAST(document, params.operationName);
            return (operation?.operation === 'subscription' ? enveloped.subscribe : enveloped.execute)(args);
          },
        },
        yoga.fetchAPI,
      );
    },
    onRequest({ request, serverContext, endResponse, url }) {
      if (url.pathname !== endpoint || !handler || !isSingleConnectionRequest(request)) return;
      serverContextOf.set(request, serverContext as Record<string, unknown>);
      if (request.method === 'PUT') return reserve(handler, request).then(endResponse);
      const token = request.headers.get(TOKEN_HEADER_KEY) ?? url.searchParams.get(TOKEN_QUERY_KEY);
      if (token && request.headers.get('accept') === 'text/event-stream') reservations.opened(token);
      return handler(request).then(endResponse);
    },
    onDispose() {
      reservations.close();
    },
  };

  async function reserve(serve: (request: Request) => Promise<Response>, request: Request): Promise<Response> {
    if (reservations.isFull()) {
      const message = localize('sse.tooManyReservations', {}, request.headers.get('accept-language') ?? undefined);
      const body = JSON.stringify({ errors: [{ message, extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
      return new Response(body, { status: 503, headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '5' } });
    }
    const response = await serve(request);
    if (response.status === 201) reservations.reserved(await response.clone().text());
    return response;
  }
}
