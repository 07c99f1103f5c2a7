import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError, type DocumentNode, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { createContext, type GatewayContext } from './context.js';
import { useCSRFPrevention } from './graphql/csrf.js';
import { useGraphQLSSESingleConnection } from './graphql/graphql-sse.js';
import { graphqlErrorFrom, useClientErrors } from './graphql/errors.js';
import { graphiqlDefaultQuery } from './graphql/graphiql.js';
import { useOperationLog } from './graphql/logging.js';
import { MAX_MULTIPART_BYTES, useUploadLimits } from './graphql/uploads.js';
import { useValidTextArguments } from './graphql/text-arguments.js';
import { useQueryLimits } from './graphql/limits.js';
import { useSharedEventResults } from './graphql/shared-events.js';
import { loadPersistedOperations, persistedQueryOf, usePersistedOperationList } from './graphql/persisted-operations.js';
import { createFetch } from '@whatwg-node/fetch';
import { schema } from './graphql/schema.js';
import { isMultipart, readBodyWithin, refuseTooLarge } from './lib/body-limit.js';
import { loadConfig, type Config } from './lib/config.js';
import { UserFacingError } from './lib/errors.js';
import { headersFromConnection, headersFromFetch, type HeaderSource } from './lib/headers.js';
import { createLogger } from './lib/logger.js';
import { createServices, type Services } from './services.js';
import { BATCH_RESULTS_PATH, serveBatchResults } from './modules/batch/batch-results.js';
import { FILE_DOWNLOAD_PATH, serveFileDownload } from './modules/files/file-download.js';
import { serveDemoPage } from './demo-page.js';
import { createOpenAIDoorHandler, OPENAI_PREFIX } from './modules/openai-door/openai-door.http.js';
import { serveOperations } from './modules/operations/operations-http.js';
import { useOperationMetrics, useOperationTracing } from './graphql/observability.js';
import { waitUntil } from './lib/wait.js';
import { createAddressCounter } from './lib/address-counter.js';

interface ServerContext {
  request?: Request;
  req?: IncomingMessage;
  connectionParams?: Record<string, unknown>;
}

export interface App {
  services: Services;
  /** Listens on the port (0: any free one) and resolves with the base URL. */
  start(port?: number, host?: string): Promise<string>;
  stop(): Promise<void>;
  url(): string;
}

async function contextFor(services: Services, headers: HeaderSource): Promise<GatewayContext> {
  try {
    return await createContext(services, headers);
  } catch (error) {
    if (error instanceof UserFacingError) throw graphqlErrorFrom(error, headers('accept-language'));
    throw error;
  }
}

export async function buildApp(overrides: Partial<Config> = {}): Promise<App> {
  const config = loadConfig(process.env, overrides);
  const logger = createLogger(config.logLevel);
  const services = await createServices(config, logger);
  // With one instance, a reply still STREAMING at start-up was left by a previous run.
  // With several (Redis), another instance may be running it.
  if (!config.redisUrl) {
    const interrupted = await services.chat.failOrphans();
    if (interrupted > 0) logger.warn({ interrupted }, 'marked replies left streaming by a previous run as FAILED');
  }

  const persisted = config.persistedOperationsFile ? await loadPersistedOperations(config.persistedOperationsFile, config.persistedOperationsOnly) : null;
  const yoga = createYoga<ServerContext, GatewayContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    maxRequestBodySize: MAX_MULTIPART_BYTES,
    maskedErrors: { isDev: false },
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      error: (...args) => logger.error(args.map(String).join(' ')),
    },
    // GraphiQL with its assets inlined from the installed package: no CDN, works offline.
    renderGraphiQL,
    cors: config.allowedOrigins.length > 0 ? { origin: config.allowedOrigins, credentials: true } : undefined,
    graphiql: config.graphiql && {
      title: 'AI chat gateway',
      defaultQuery: graphiqlDefaultQuery,
      headers: JSON.stringify({ 'x-device-id': 'graphiql-explorer' }, null, 2),
      // GraphiQL streams subscriptions over SSE; the preflight header lets those requests pass the CSRF check.
      additionalHeaders: { 'graphql-require-preflight': '1' },
    },
    context: ({ request, req, connectionParams }) =>
      contextFor(services, request && !connectionParams ? headersFromFetch(request.headers) : headersFromConnection(connectionParams, req?.headers)),
    plugins: [
      useOperationTracing(),
      useCSRFPrevention(['graphql-require-preflight', 'apollo-require-preflight', 'x-graphql-yoga-csrf']),
      useGraphQLSSESingleConnection('/graphql', persisted, config.sse),
      useUploadLimits(config),
      ...useQueryLimits(config.queryLimits),
      useSharedEventResults(),
      ...(persisted ? [usePersistedOperationList(persisted)] : []),
      useValidTextArguments(),
      useClientErrors(logger),
      useOperationMetrics(services.metrics),
      useOperationLog(logger),
    ],
    // Multipart uploads are refused while they stream in, once past these limits.
    fetchAPI: createFetch({ formDataLimits: { fileSize: config.maxFileBytes, files: config.maxFilesPerRequest, fieldSize: 1_000_000 } }),
  });

  const serveOpenAIDoor = createOpenAIDoorHandler(services);
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    if (serveOperations(request, response, services)) return;
    if (request.url?.startsWith(OPENAI_PREFIX)) return void serveOpenAIDoor(request, response);
    const batchResults = request.url?.split('?')[0]?.match(BATCH_RESULTS_PATH);
    if (batchResults) return void serveBatchResults(services, request, response, batchResults[1]!);
    const fileDownload = request.url?.split('?')[0]?.match(FILE_DOWNLOAD_PATH);
    if (fileDownload) return void serveFileDownload(services, request, response, fileDownload[1]!);
    if (!config.demoPage || request.url?.startsWith('/graphql')) return void yoga(request, response);
    void serveDemoPage(request, response).then((served) => {
      if (!served) void yoga(request, response);
    });
  };
  const server: Server = createServer(
    {
      headersTimeout: config.http.headersTimeoutMs,
      // Receiving the request only: answers (SSE streams) and upgraded WebSockets are not cut by it.
      requestTimeout: config.http.requestTimeoutMs,
      keepAliveTimeout: config.http.keepAliveTimeoutMs,
      // How often those timeouts are checked; Node's default (30 s) would let silent sockets live that much longer.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(config.http.headersTimeoutMs / 4))),
    },
    (request, response) => {
      if (isMultipart(request)) return handle(request, response);
      if (request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] === undefined) {
        if (Number(request.headers['content-length'] ?? 0) > config.maxBodyBytes) return refuseTooLarge(request, response, config.maxBodyBytes);
        return handle(request, response);
      }
      void readBodyWithin(request, response, config.maxBodyBytes).then((complete) => {
        if (complete) handle(request, response);
      });
    },
  );
  const httpConnections = createAddressCounter();
  server.on('connection', (socket) => {
    const ip = socket.remoteAddress ?? '';
    if (httpConnections.count(ip) >= config.http.maxConnectionsPerIp) {
      socket.end('HTTP/1.1 429 Too Many Requests\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      socket.destroySoon();
      return;
    }
    httpConnections.track(ip, socket);
  });
  const limits = config.webSocket;
  const socketConnections = createAddressCounter();
  const webSockets = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: limits.maxMessageBytes,
    verifyClient: ({ origin, req }, done) => {
      // Browsers always send Origin; other clients may not, and cannot be forged into a user's session.
      if (origin && config.allowedOrigins.length > 0 && !config.allowedOrigins.includes(origin)) return done(false, 403, 'Origin not allowed');
      if (socketConnections.count(req.socket.remoteAddress ?? '') >= limits.maxConnectionsPerIp) return done(false, 429, 'Too many connections');
      done(true);
    },
  });
  webSockets.on('connection', (socket, request) => socketConnections.track(request.socket.remoteAddress ?? '', socket));
  const operationsBySocket = new WeakMap<object, Set<string>>();
  const graphqlWs = useServer<Record<string, unknown>>(
    {
      connectionInitWaitTimeout: limits.initTimeoutMs,
      // Credentials are checked when the socket opens: a bad one closes it with 4401 (or 4403 when forbidden).
      onConnect: async (socketContext) => {
        try {
          await services.identity.checkCredentials(headersFromConnection(socketContext.connectionParams, socketContext.extra.request.headers));
          return true;
        } catch (error) {
          if (!(error instanceof UserFacingError)) throw error;
          const reason = graphqlErrorFrom(error, undefined).message.slice(0, 120);
          socketContext.extra.socket.close(error.code === 'FORBIDDEN' ? 4403 : 4401, reason);
          return false;
        }
      },
      execute: (args) => (args.rootValue as { execute: (args: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (args: ExecutionArgs) => unknown }).subscribe(args) as never,
      onComplete: (socketContext, id) => {
        operationsBySocket.get(socketContext.extra.socket)?.delete(id);
      },
      onError: (socketContext, id) => {
        operationsBySocket.get(socketContext.extra.socket)?.delete(id);
      },
      onSubscribe: async (socketContext, id, payload) => {
        const active = operationsBySocket.get(socketContext.extra.socket) ?? new Set<string>();
        operationsBySocket.set(socketContext.extra.socket, active);
        if (active.size >= limits.maxOperationsPerSocket) {
          return [
            new GraphQLError(`At most ${limits.maxOperationsPerSocket} operations may run on one socket.`, { extensions: { code: 'TOO_MANY_OPERATIONS' } }),
          ];
        }
        const {
          schema: envelopedSchema,
          execute,
          subscribe,
          contextFactory,
          parse,
          validate,
        } = yoga.getEnveloped({
          ...socketContext,
          req: socketContext.extra.request,
          socket: socketContext.extra.socket,
          params: payload,
        });
        const query = persistedQueryOf(persisted, payload as never);
        if (query instanceof GraphQLError) return [query];
        // A refused document (syntax, or a depth, alias, directive or cost limit, which GraphQL Armor throws)
        // is an error for this operation only; thrown, it would close the whole socket with 4500.
        let document: DocumentNode;
        try {
          document = parse(query);
          const errors = validate(envelopedSchema, document);
          if (errors.length > 0) return errors;
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        active.add(id);
        return {
          schema: envelopedSchema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
    },
    webSockets,
  );

  let baseUrl = '';
  const sweeper = setInterval(() => {
    services.files.sweep().catch((error: unknown) => logger.warn({ err: error }, 'file sweep failed'));
  }, config.fileSweepIntervalMs);
  sweeper.unref();
  const heartbeat = setInterval(
    () => {
      services.chat.heartbeat(config.orphanTimeoutMs).catch((error: unknown) => logger.warn({ err: error }, 'reply heartbeat failed'));
    },
    Math.max(100, Math.floor(config.orphanTimeoutMs / 3)),
  );
  heartbeat.unref();
  return {
    services,
    url: () => baseUrl,
    start(port = config.port, host = config.host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const address = server.address() as AddressInfo;
          baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
          services.batch.start();
          services.indexer.start();
          services.search.startBackfill();
          logger.info({ url: `${baseUrl}/graphql`, database: services.db.kind, demo: services.registry.usingDemo }, 'gateway listening');
          resolve(baseUrl);
        });
      });
    },
    async stop() {
      await services.readiness.beginShutdown(config.shutdownDrainMs);
      clearInterval(sweeper);
      clearInterval(heartbeat);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Connections that are not mid-request (idle keep-alives, peers that never sent a byte) go now.
      server.closeIdleConnections();
      await Promise.all([services.chat.shutdown(config.shutdownGraceMs), services.batch.stop(), services.indexer.stop(), services.search.stopBackfill()]);
      // Subscribers get a moment to receive the MessageFinished of replies stopped by the shutdown.
      await waitUntil(() => services.chat.followerCount() === 0, 2_000);
      // A peer that stopped reading never completes the close handshake; after a second its socket is ended.
      const disposed = graphqlWs.dispose();
      const terminate = setTimeout(() => {
        for (const socket of webSockets.clients) socket.terminate();
      }, 1_000);
      await disposed;
      clearTimeout(terminate);
      server.closeAllConnections();
      await closed;
      await services.close();
    },
  };
}
