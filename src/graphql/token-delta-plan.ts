import { getOperationAST, Kind, type DocumentNode, type ExecutionResult, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import type { MessageEvent } from '../modules/chat/message-events.js';
import { encodeGlobalId } from './global-id.js';

/** The streamed text events: an answer's tokens and a reasoning model's thinking, alike but for their type. */
export type DeltaEvent = Extract<MessageEvent, { type: 'TokenDelta' | 'ReasoningDelta' }>;
export type TokenDeltaPlan = (event: DeltaEvent) => ExecutionResult;

const deltaFields: Record<string, (event: DeltaEvent) => unknown> = {
  __typename: (event) => event.type,
  messageId: (event) => encodeGlobalId('Message', event.messageId),
  seq: (event) => event.seq,
  delta: (event) => event.delta,
};
const eventTypes = ['TokenDelta', 'ReasoningDelta', 'ToolCallEvent', 'ToolResultEvent', 'MessageFinished'];

interface Conditions {
  /** Type conditions that hold for the planned event type. */
  applies: Set<string>;
  /** Type conditions that never do. */
  other: Set<string>;
}

type Fields = Map<string, (event: DeltaEvent) => unknown>;

/** Collects response keys in the order GraphQL execution would; false when the selection needs real execution. */
function collect(selectionSet: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, conditions: Conditions, into: Fields): boolean {
  for (const selection of selectionSet.selections) {
    if (selection.directives?.length) return false;
    if (selection.kind === Kind.FIELD) {
      const value = deltaFields[selection.name.value];
      if (!value || selection.selectionSet || selection.arguments?.length) return false;
      const key = selection.alias?.value ?? selection.name.value;
      if (!into.has(key)) into.set(key, value);
      continue;
    }
    const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments.get(selection.name.value) : selection;
    if (!fragment) return false;
    const condition = fragment.typeCondition?.name.value;
    if (condition && conditions.other.has(condition)) continue;
    if (condition && !conditions.applies.has(condition)) return false;
    if (!collect(fragment.selectionSet, fragments, conditions, into)) return false;
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
export function planTokenDelta(document: DocumentNode, operationName?: string | null, type: DeltaEvent['type'] = 'TokenDelta'): TokenDeltaPlan | null {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== 'subscription' || operation.selectionSet.selections.length !== 1) return null;
  const root = operation.selectionSet.selections[0]!;
  if (root.kind !== Kind.FIELD || root.directives?.length || !root.selectionSet) return null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const fields: Fields = new Map();
  const conditions = { applies: new Set([type, 'MessageEvent']), other: new Set(eventTypes.filter((other) => other !== type)) };
  if (!collect(root.selectionSet, fragments, conditions, fields)) return null;
  const rootKey = root.alias?.value ?? root.name.value;
  const entries = [...fields];
  return (event) => {
    const data: Record<string, unknown> = {};
    for (const [key, value] of entries) data[key] = value(event);
    return { data: { [rootKey]: data } };
  };
}
