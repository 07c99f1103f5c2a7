import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../context.js';
import type { Logger } from '../lib/logger.js';

/** One log line per operation, carrying the request id that masked errors show clients. */
export function useOperationLog(logger: Logger): Plugin<GatewayContext> {
  const log = (kind: string, args: { contextValue: unknown; operationName?: string | null }) => {
    const context = args.contextValue as GatewayContext;
    const startedAt = performance.now();
    return (errors: number) =>
      logger.info(
        {
          requestId: context.requestId,
          operation: args.operationName ?? null,
          kind,
          viewer: context.viewer?.user.id ?? null,
          errors,
          durationMs: Math.round(performance.now() - startedAt),
        },
        'operation',
      );
  };
  return {
    onExecute({ args }) {
      const done = log('execute', args);
      return {
        onExecuteDone: ({ result }) => {
          done('errors' in result && Array.isArray(result.errors) ? result.errors.length : 0);
        },
      };
    },
    onSubscribe({ args }) {
      log('subscribe', args)(0);
    },
  };
}
