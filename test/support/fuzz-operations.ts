import {
  type GraphQLField,
  type GraphQLOutputType,
  getNamedType,
  isAbstractType,
  isInterfaceType,
  isLeafType,
  isNonNullType,
  isObjectType,
  type GraphQLSchema,
} from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { isFuzzFile } from './fuzz-arguments.js';

export interface FuzzResponse {
  data?: unknown;
  errors?: Array<{ message?: string; extensions?: Record<string, unknown> }>;
}

const takesNoRequiredArgs = (field: GraphQLField<unknown, unknown>) => field.args.every((arg) => !isNonNullType(arg.type) || arg.defaultValue !== undefined);

/**
 * What to read back: every plain field of the result, and the ids (with __typename) of the
 * objects below it, so a row of another user would show in the answer.
 */
export function selectionOf(schema: GraphQLSchema, type: GraphQLOutputType, depth = 0): string {
  const named = getNamedType(type);
  if (isLeafType(named)) return '';
  if (depth > 3) return '{ __typename }';
  const parts = ['__typename'];
  if (isAbstractType(named)) {
    // Only the ids: members' other fields of one name may differ in type, which no single selection can ask for.
    for (const member of schema.getPossibleTypes(named)) if (member.getFields().id) parts.push(`... on ${member.name} { id }`);
    return `{ ${parts.join(' ')} }`;
  }
  if (!isObjectType(named) && !isInterfaceType(named)) return '';
  for (const field of Object.values(named.getFields())) {
    if (!takesNoRequiredArgs(field)) continue;
    const leaf = isLeafType(getNamedType(field.type));
    if (leaf && (depth === 0 || field.name === 'id')) parts.push(field.name);
    else if (!leaf && depth < 3) parts.push(`${field.name} ${selectionOf(schema, field.type, depth + 1)}`);
  }
  return `{ ${parts.join(' ')} }`;
}

/** One operation that calls the field with every argument as a variable of the argument's own type. */
export function documentOf(schema: GraphQLSchema, kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): string {
  const declared = field.args.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(', ');
  const passed = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  return `${kind} Fuzz${declared ? `(${declared})` : ''} { ${field.name}${passed ? `(${passed})` : ''} ${selectionOf(schema, field.type)} }`;
}

/** Variables with the generated files taken out: as JSON for graphql-ws (files become null), and as a files map for multipart. */
function splitFiles(value: unknown, path: string, files: Map<string, File>): unknown {
  if (isFuzzFile(value)) {
    files.set(path, new File([value.fuzzFile.content], value.fuzzFile.name, { type: value.fuzzFile.type }));
    return null;
  }
  if (Array.isArray(value)) return value.map((item, index) => splitFiles(item, `${path}.${index}`, files));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, splitFiles(item, `${path}.${key}`, files)]));
  }
  return value;
}

export function withoutFiles(variables: Record<string, unknown>): { variables: Record<string, unknown>; files: Map<string, File> } {
  const files = new Map<string, File>();
  return { variables: splitFiles(variables, 'variables', files) as Record<string, unknown>, files };
}

/** Sends over HTTP: JSON, or the multipart upload request when there are files. Anything but a JSON GraphQL body is returned as an uncoded error. */
export async function overHttp(url: string, headers: Record<string, string>, query: string, values: Record<string, unknown>): Promise<FuzzResponse> {
  const { variables, files } = withoutFiles(values);
  let response: Response;
  if (files.size === 0) {
    response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
  } else {
    const form = new FormData();
    const paths = [...files.keys()];
    form.set('operations', JSON.stringify({ query, variables }));
    form.set('map', JSON.stringify(Object.fromEntries(paths.map((path, index) => [String(index), [path]]))));
    for (const [index, path] of paths.entries()) form.set(String(index), files.get(path)!);
    response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'graphql-require-preflight': '1', ...headers }, body: form });
  }
  const text = await response.text();
  try {
    return JSON.parse(text) as FuzzResponse;
  } catch {
    return { errors: [{ message: `HTTP ${response.status}, not JSON: ${text.slice(0, 200)}` }] };
  }
}

/** A graphql-ws socket kept open for the whole run; `closed` is set if the server ever closes it. */
export function fuzzSocket(url: string, headers: Record<string, string>) {
  const state: { closed?: string } = {};
  const client: Client = createClient({
    url: `${url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: headers,
    lazy: false,
    retryAttempts: 0,
    // A close is recorded in `state` and reported by the test, not printed.
    onNonLazyError: () => {},
    on: { closed: (event) => (state.closed = `${(event as CloseEvent).code} ${(event as CloseEvent).reason}`) },
  });
  const run = (query: string, values: Record<string, unknown>) =>
    new Promise<FuzzResponse>((resolve) => {
      const { variables } = withoutFiles(values);
      const errors: NonNullable<FuzzResponse['errors']> = [];
      let data: unknown;
      client.subscribe(
        { query, variables },
        {
          next: (value) => {
            data = value.data ?? data;
            errors.push(...((value.errors ?? []) as typeof errors));
          },
          error: (error) => {
            if (Array.isArray(error)) errors.push(...error);
            else errors.push({ message: `socket error: ${String((error as CloseEvent).code ?? error)}` });
            resolve({ data, errors });
          },
          complete: () => resolve({ data, errors: errors.length > 0 ? errors : undefined }),
        },
      );
    });
  return { client, run, state };
}
