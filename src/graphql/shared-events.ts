import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { type DeltaEvent, planTokenDelta, type TokenDeltaPlan } from './token-delta-plan.js';

/** Events whose result depends only on the event and the operation, never on who receives it. */
const isShareable = (event: unknown): event is DeltaEvent => {
  const type = (event as { type?: string } | null)?.type;
  return type === 'TokenDelta' || type === 'ReasoningDelta';
};

/**
 * Token events are most of what a gateway sends, so they skip GraphQL
 * execution: their result is built from the operation's selection (see
 * planTokenDelta). A token event a plan cannot cover is executed once per
 * (event, document, variables) and shared by every subscriber following that
 * reply. Other events (a MessageFinished reads the stored message as each
 * caller may see it) still run per subscriber.
 */
export function useSharedEventResults(): Plugin {
  // Keyed by the event object itself, so entries go when the event is collected.
  const results = new WeakMap<object, WeakMap<DocumentNode, Map<string, Promise<ExecutionResult>>>>();

  function executeShared(args: ExecutionArgs, event: object): Promise<ExecutionResult> {
    let byDocument = results.get(event);
    if (!byDocument) results.set(event, (byDocument = new WeakMap()));
    let byVariables = byDocument.get(args.document);
    if (!byVariables) byDocument.set(args.document, (byVariables = new Map()));
    const key = `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
    let result = byVariables.get(key);
    if (!result) byVariables.set(key, (result = Promise.resolve(execute({ ...args, rootValue: event }))));
    return result;
  }

  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args: ExecutionArgs) => {
        const source = await createSourceEventStream(args);
        if (!(Symbol.asyncIterator in source)) return source;
        const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
        // Planned on first use: most replies have no thinking, so most subscriptions never need a reasoning plan.
        const plans = new Map<DeltaEvent['type'], TokenDeltaPlan | null>();
        const planFor = (type: DeltaEvent['type']) => {
          if (!plans.has(type)) plans.set(type, planTokenDelta(args.document, args.operationName, type));
          return plans.get(type)!;
        };
        const run = (event: unknown): ExecutionResult | Promise<ExecutionResult> => {
          if (!isShareable(event)) return execute({ ...args, rootValue: event });
          const plan = planFor(event.type);
          return plan ? plan(event) : executeShared(args, event);
        };
        // A hand-written iterator, so return() reaches the source at once even while a next() is pending.
        const mapped: AsyncIterableIterator<ExecutionResult> = {
          async next() {
            const step = await iterator.next();
            return step.done ? { done: true, value: undefined } : { done: false, value: await run(step.value) };
          },
          async return() {
            await iterator.return?.();
            return { done: true, value: undefined };
          },
          async throw(error) {
            await iterator.return?.();
            throw error;
          },
          [Symbol.asyncIterator]() {
            return mapped;
          },
        };
        return mapped;
      });
    },
  };
}
