import type { IncomingHttpHeaders } from 'node:http';

/**
 * Reads the credentials and preferences a caller sends, from HTTP headers or,
 * on graphql-ws, from the connection_init payload (same names, any case),
 * falling back to the WebSocket upgrade request's headers.
 */
export type HeaderSource = (name: string) => string | undefined;

export function headersFromFetch(headers: Headers): HeaderSource {
  return (name) => headers.get(name) ?? undefined;
}

export function headersFromConnection(connectionParams: Record<string, unknown> | undefined, upgradeHeaders: IncomingHttpHeaders | undefined): HeaderSource {
  const params = new Map<string, string>();
  const nested = connectionParams?.headers;
  for (const source of [nested, connectionParams]) {
    if (!source || typeof source !== 'object') continue;
    for (const [key, value] of Object.entries(source)) {
      if (typeof value === 'string') params.set(key.toLowerCase(), value);
    }
  }
  return (name) => {
    const lower = name.toLowerCase();
    const fromParams = params.get(lower);
    if (fromParams !== undefined) return fromParams;
    const fromUpgrade = upgradeHeaders?.[lower];
    return Array.isArray(fromUpgrade) ? fromUpgrade[0] : fromUpgrade;
  };
}
