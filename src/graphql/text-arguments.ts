import {
  getArgumentValues,
  getVariableValues,
  type GraphQLError,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type ExecutionArgs,
  type FieldNode,
  type GraphQLArgument,
  type OperationDefinitionNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../context.js';
import { badInput, unauthenticated } from '../lib/errors.js';
import { graphqlErrorFrom } from './errors.js';

// Node 20 has String.prototype.isWellFormed; TypeScript declares it only in its ES2024 lib.
type WellFormedCheckable = string & { isWellFormed(): boolean };

/** Text PostgreSQL can store: no U+0000 and no lone UTF-16 surrogate. */
export function isValidText(text: string): boolean {
  return !text.includes('\0') && (text as WellFormedCheckable).isWellFormed();
}

const isPlainObject = (value: object): boolean => {
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || prototype === Object.prototype;
};

/** An upload: the multipart parser's own File class, which need not be the global one. */
const isFile = (value: object): value is { name: string } =>
  typeof (value as Partial<File>).name === 'string' && typeof (value as Partial<File>).arrayBuffer === 'function';

/** The path of the first string in the value that is not valid text: strings, list items, object keys and values (JSON too), and upload file names. */
function invalidTextIn(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return isValidText(value) ? undefined : path;
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = invalidTextIn(item, `${path}.${index}`);
      if (found) return found;
    }
    return undefined;
  }
  if (isFile(value)) return isValidText(value.name) ? undefined : `${path}.name`;
  if (!isPlainObject(value)) return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (!isValidText(key)) return path;
    const found = invalidTextIn(item, `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}

function operationOf(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  if (operationName) return operations.find((operation) => operation.name?.value === operationName);
  return operations.length === 1 ? operations[0] : undefined;
}

interface InvalidText {
  argument: string;
  node: FieldNode;
  /** Whether the field that holds it answers callers without credentials. */
  isPublic: boolean;
}

/** Pothos keeps a field's auth scopes in its extensions; only `{ public: true }` lets anyone in. */
const isPublicField = (definition: { extensions?: Record<string, unknown> | null } | null | undefined): boolean => {
  const options = definition?.extensions?.pothosOptions as { authScopes?: unknown } | undefined;
  const scopes = options?.authScopes as Record<string, unknown> | undefined;
  return scopes?.public === true;
};

/**
 * The first argument of the operation, at any field (in fragments too), holding a string that is
 * not valid text, read after coercion: inline literals, variables and defaults alike.
 */
export function findInvalidText(args: Pick<ExecutionArgs, 'schema' | 'document' | 'variableValues' | 'operationName'>): InvalidText | undefined {
  const operation = operationOf(args.document, args.operationName);
  if (!operation) return undefined;
  const coerced = getVariableValues(args.schema, operation.variableDefinitions ?? [], (args.variableValues ?? {}) as Record<string, unknown>);
  // Variables that do not coerce are graphql-js's to report.
  if (!coerced.coerced) return undefined;
  const variables = coerced.coerced;
  const typeInfo = new TypeInfo(args.schema);
  let found: InvalidText | undefined;
  const check = (
    node: FieldNode,
    definition: { args: readonly GraphQLArgument[]; extensions?: Record<string, unknown> | null } | null | undefined,
    at: string,
  ) => {
    if (found || !definition || definition.args.length === 0) return;
    let values: Record<string, unknown>;
    try {
      values = getArgumentValues(definition as never, node as never, variables);
    } catch {
      // Arguments that do not coerce are graphql-js's to report.
      return;
    }
    const argument = invalidTextIn(values, at);
    if (argument) found = { argument, node, isPublic: isPublicField(definition) };
  };
  const visitor = visitWithTypeInfo(typeInfo, {
    OperationDefinition: (definition) => (definition === operation ? undefined : false),
    Field: (node) => check(node, typeInfo.getFieldDef(), (node.alias ?? node.name).value),
    Directive: (node) => {
      const directive = typeInfo.getDirective();
      if (directive) check(node as never, directive, `@${node.name.value}`);
    },
  });
  visit(args.document, visitor);
  return found;
}

/**
 * Refuses, before anything runs, an operation with an argument holding U+0000 or a lone UTF-16
 * surrogate anywhere (PostgreSQL stores neither): BAD_USER_INPUT (input.invalidText) naming the
 * argument, over HTTP, SSE and graphql-ws alike; UNAUTHENTICATED instead when no credential was
 * sent for a field that needs one.
 */
export function useValidTextArguments(): Plugin<GatewayContext> {
  const refusal = (args: ExecutionArgs) => {
    const invalid = findInvalidText(args);
    if (!invalid) return undefined;
    const context = args.contextValue as GatewayContext | undefined;
    // Without credentials, a field that needs them says so first, as it would for valid text.
    const refused = context && !context.viewer && !invalid.isPublic ? unauthenticated() : badInput('input.invalidText', { argument: invalid.argument });
    const error: GraphQLError = graphqlErrorFrom(refused, context?.acceptLanguage, {
      nodes: [invalid.node],
      path: undefined,
    });
    return { errors: [error] };
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const result = refusal(args);
      if (result) setResultAndStopExecution(result);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const result = refusal(args);
      if (result) setResultAndStopExecution(result);
    },
  };
}
