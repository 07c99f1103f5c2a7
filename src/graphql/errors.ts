import { GraphQLError, type ExecutionResult } from 'graphql';
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../context.js';
import { httpStatusByCode, UserFacingError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { localize } from './messages.js';

function userFacingCause(error: GraphQLError): UserFacingError | undefined {
  let cause: unknown = error.originalError;
  // Pothos and graphql-js may wrap the thrown error more than once.
  for (let depth = 0; cause && depth < 5; depth += 1) {
    if (cause instanceof UserFacingError) return cause;
    cause = (cause as { originalError?: unknown; cause?: unknown }).originalError ?? (cause as { cause?: unknown }).cause;
  }
  return undefined;
}

export function graphqlErrorFrom(
  userFacing: UserFacingError,
  acceptLanguage: string | undefined,
  location: Pick<GraphQLError, 'nodes' | 'path'> = { nodes: undefined, path: undefined },
): GraphQLError {
  const retryAfter = userFacing.extensions.retryAfter;
  return new GraphQLError(localize(userFacing.messageKey, userFacing.params, acceptLanguage), {
    nodes: location.nodes,
    path: location.path,
    extensions: {
      code: userFacing.code,
      ...userFacing.extensions,
      http: {
        status: httpStatusByCode[userFacing.code],
        ...(typeof retryAfter === 'number' ? { headers: { 'Retry-After': String(retryAfter) } } : {}),
      },
    },
  });
}

function asBadInput(error: GraphQLError): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code: 'BAD_USER_INPUT', http: { status: httpStatusByCode.BAD_USER_INPUT } },
  });
}

function toClientError(error: GraphQLError, context: GatewayContext | undefined, logger: Logger): GraphQLError {
  const userFacing = userFacingCause(error);
  if (userFacing) return graphqlErrorFrom(userFacing, context?.acceptLanguage, error);
  // Errors graphql-js raises itself (variables or arguments of the wrong type) are the request's: shown as they are, coded.
  if (!error.originalError || error.originalError instanceof GraphQLError) return error.extensions?.code ? error : asBadInput(error);
  logger.error({ err: error.originalError, requestId: context?.requestId, path: error.path }, 'unexpected error');
  return new GraphQLError(localize('internal', {}, context?.acceptLanguage), {
    nodes: error.nodes,
    path: error.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: context?.requestId },
  });
}

function mapErrors(result: ExecutionResult, context: GatewayContext | undefined, logger: Logger): ExecutionResult | undefined {
  if (!result.errors?.length) return undefined;
  return { ...result, errors: result.errors.map((error) => toClientError(error as GraphQLError, context, logger)) };
}

/**
 * Turns the errors services throw into localized GraphQL errors with a code and
 * HTTP status, and masks (and logs) everything else, for queries, mutations
 * and every event of a subscription.
 */
export function useClientErrors(logger: Logger): Plugin<GatewayContext> {
  return {
    onExecute({ args }) {
      const context = args.contextValue as GatewayContext;
      return {
        onExecuteDone: (payload) =>
          handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => {
            const mapped = mapErrors(result, context, logger);
            if (mapped) setResult(mapped);
          }),
      };
    },
    onSubscribe({ args }) {
      const context = args.contextValue as GatewayContext;
      return {
        onSubscribeResult: (payload) =>
          handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => {
            const mapped = mapErrors(result, context, logger);
            if (mapped) setResult(mapped);
          }),
      };
    },
  };
}
