import { getOperationAST, Kind, type DocumentNode, type ExecutionResult, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import type { MessageEvent } from '../modules/chat/message-events.js';
import { encodeGlobalId } from './global-id.js';

type TokenDelta = Extract<MessageEvent, { type: 'TokenDelta' }>;
export type TokenDeltaPlan = (event: TokenDelta) => ExecutionResult;

const tokenDeltaFields: Record<string, (event: TokenDelta) => unknown> = {
  __typename: () => 'TokenDelta',
  messageId: (event) => encodeGlobalId('Message', event.messageId),
  seq: (event) => event.seq,
  delta: (event) => event.delta,
};
/** Type conditions that hold for a TokenDelta, and those that never do. */
const appliesToTokenDelta = new Set(['TokenDelta', 'MessageEvent']);
const otherEventTypes = new Set(['ToolCallEvent', 'ToolResultEvent', 'MessageFinished']);

type Fields = Map<string, (event: TokenDelta) => unknown>;

/** Collects response keys in the order GraphQL execution would; false when the selection needs real execution. */
function collect(selectionSet: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, into: Fields): boolean {
  for (const selection of selectionSet.selections) {
    if (selection.directives?.length) return false;
    if (selection.kind === Kind.FIELD) {
      const value = tokenDeltaFields[selection.name.value];
      if (!value || selection.selectionSet || selection.arguments?.length) return false;
      const key = selection.alias?.value ?? selection.name.value;
      if (!into.has(key)) into.set(key, value);
      continue;
    }
    const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments.get(selection.name.value) : selection;
    if (!fragment) return false;
    const condition = fragment.typeCondition?.name.value;
    if (condition && otherEventTypes.has(condition)) continue;
    if (condition && !appliesToTokenDelta.has(condition)) return false;
    if (!collect(fragment.selectionSet, fragments, into)) return false;
  }
  return true;
}

/**
 * A token event's result for a subscription operation, built straight from
 * its selection instead of running GraphQL execution for every token (which
 * also re-coerces the operation's variables each time). Only plain fields,
 * aliases and fragments are planned; anything else (directives, say) returns
 * null and the event is executed as usual. The operation has been validated.
 */
export function planTokenDelta(document: DocumentNode, operationName?: string | null): TokenDeltaPlan | null {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== 'subscription' || operation.selectionSet.selections.length !== 1) return null;
  const root = operation.selectionSet.selections[0]!;
  if (root.kind !== Kind.FIELD || root.directives?.length || !root.selectionSet) return null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const fields: Fields = new Map();
  if (!collect(root.selectionSet, fragments, fields)) return null;
  const rootKey = root.alias?.value ?? root.name.value;
  const entries = [...fields];
  return (event) => {
    const data: Record<string, unknown> = {};
    for (const [key, value] of entries) data[key] = value(event);
    return { data: { [rootKey]: data } };
  };
}
