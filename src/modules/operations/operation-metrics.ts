import { type DocumentNode, type ExecutionResult, getOperationAST, Kind } from 'graphql';
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';
import type { Metrics } from './metrics.js';

/** The operation's type and first root field: bounded by the schema, unlike client-chosen operation names. */
function operationOf(document: DocumentNode, operationName?: string | null) {
  const operation = getOperationAST(document, operationName);
  const first = operation?.selectionSet.selections.find((selection) => selection.kind === Kind.FIELD);
  return { type: operation?.operation ?? 'unknown', field: first?.kind === Kind.FIELD ? first.name.value : 'unknown' };
}

const codesOf = (result: ExecutionResult) => (result.errors ?? []).map((error) => String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));

/** Counts operations and their errors by code. Listed after the plugin that gives errors their codes. */
export function useOperationMetrics(metrics: Metrics): Plugin {
  const watch = (args: { document: DocumentNode; operationName?: string | null }) => {
    const { type, field } = operationOf(args.document, args.operationName);
    let counted = false;
    return (payload: Parameters<typeof handleStreamOrSingleExecutionResult>[0]) =>
      handleStreamOrSingleExecutionResult(payload, ({ result }) => {
        metrics.operationRan(type, field, codesOf(result), !counted);
        counted = true;
      });
  };
  return {
    onExecute: ({ args }) => ({ onExecuteDone: watch(args) }),
    onSubscribe: ({ args }) => ({ onSubscribeResult: watch(args) }),
  };
}
