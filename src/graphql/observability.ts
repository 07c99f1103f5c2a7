import { type DocumentNode, type ExecutionResult, getOperationAST, Kind } from 'graphql';
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';
import { context, contextFromHeaders, SpanStatusCode, trace } from '../lib/tracing.js';
import type { Metrics } from '../modules/operations/metrics.js';

interface TransportContext {
  request?: Request;
  connectionParams?: Record<string, unknown>;
}

function describe(document: DocumentNode, operationName?: string | null) {
  const operation = getOperationAST(document, operationName);
  const field = operation?.selectionSet.selections.find((selection) => selection.kind === Kind.FIELD);
  const type = operation?.operation ?? 'unknown';
  const rootField = field?.kind === Kind.FIELD ? field.name.value : 'unknown';
  return { name: `graphql.${type} ${rootField}`, type, rootField, operationName: operation?.name?.value ?? operationName ?? undefined };
}

/** A span per GraphQL operation, a child of the client's `traceparent` (header, or graphql-ws connection param) when it sends one. */
export function useOperationTracing(): Plugin {
  const tracer = trace.getTracer('graphql-ai-chat-gateway');
  const start = (args: { document: DocumentNode; operationName?: string | null; contextValue: unknown }) => {
    const transport = args.contextValue as TransportContext;
    const parent = contextFromHeaders((name) => transport.request?.headers.get(name) ?? (transport.connectionParams?.[name] as string | undefined));
    const { name, type, rootField, operationName } = describe(args.document, args.operationName);
    const span = tracer.startSpan(
      name,
      {
        attributes: {
          'graphql.operation.type': type,
          'graphql.operation.root_field': rootField,
          ...(operationName ? { 'graphql.operation.name': operationName } : {}),
        },
      },
      parent,
    );
    return { span, active: trace.setSpan(parent, span) };
  };
  const finish = (span: ReturnType<typeof start>['span'], result: unknown) => {
    const errors = (result as { errors?: Array<{ message: string }> } | undefined)?.errors;
    if (errors?.length) span.setStatus({ code: SpanStatusCode.ERROR, message: errors[0]!.message });
    span.end();
  };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const { span, active } = start(args);
      setExecuteFn((executeArgs) => context.with(active, () => executeFn(executeArgs)));
      return { onExecuteDone: ({ result }) => finish(span, result) };
    },
    // The span covers setting the subscription up (for chatStream: storing the turn, starting the reply), not its lifetime.
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const { span, active } = start(args);
      setSubscribeFn((subscribeArgs) => context.with(active, () => subscribeFn(subscribeArgs)));
      return { onSubscribeResult: ({ result }) => finish(span, result) };
    },
  };
}

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
