import { readFile } from 'node:fs/promises';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * An allow-list of operations, as GraphQL Code Generator's client preset writes
 * it (`persisted-documents.json`: hash → document). Clients send the hash as
 * `documentId` or as Apollo's `extensions.persistedQuery.sha256Hash`.
 */
export interface PersistedOperations {
  lookup(id: string): string | undefined;
  /** Refuse any operation that is not in the list. */
  only: boolean;
  size: number;
}

export async function loadPersistedOperations(file: string, only: boolean): Promise<PersistedOperations> {
  const documents = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
  const byId = new Map(Object.entries(documents));
  // Some clients prefix the algorithm ("sha256:<hash>").
  return { lookup: (id) => byId.get(id.replace(/^sha256:/, '')), only, size: byId.size };
}

/** The id a request names: the GraphQL-over-HTTP `documentId`, or Apollo's persisted-query hash. */
function operationIdOf(params: { documentId?: unknown; extensions?: Record<string, any> | null }): string | null {
  if (typeof params.documentId === 'string') return params.documentId;
  const hash = params.extensions?.persistedQuery?.sha256Hash;
  return typeof hash === 'string' ? hash : null;
}

export function usePersistedOperationList(store: PersistedOperations): Plugin {
  return usePersistedOperations({
    getPersistedOperation: (id) => store.lookup(id) ?? null,
    allowArbitraryOperations: !store.only,
    extractPersistedOperationId: (params) => operationIdOf(params as never),
  }) as Plugin;
}

/** The same rules for a graphql-ws subscribe payload: its query text, or the error to answer with. */
export function persistedQueryOf(
  store: PersistedOperations | null,
  payload: { query?: string; documentId?: unknown; extensions?: Record<string, any> | null },
): string | GraphQLError {
  const id = operationIdOf(payload);
  if (store && id) {
    return store.lookup(id) ?? new GraphQLError('PersistedQueryNotFound', { extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } });
  }
  if (store?.only) return new GraphQLError('PersistedQueryOnly', { extensions: { code: 'PERSISTED_QUERY_ONLY' } });
  return payload.query ?? '';
}
