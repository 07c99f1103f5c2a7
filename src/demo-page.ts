import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const publicDir = fileURLToPath(new URL('../public/', import.meta.url));
// The browser build of graphql-ws, served from the installed package: no CDN, no build step.
const graphqlWsDir = path.dirname(fileURLToPath(import.meta.resolve('graphql-ws')));

const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

function fileFor(urlPath: string): string | null {
  if (urlPath === '/') return path.join(publicDir, 'index.html');
  const demo = urlPath.match(/^\/demo\/([\w-]+\.(js|css))$/);
  if (demo) return path.join(publicDir, demo[1]!);
  const vendor = urlPath.match(/^\/vendor\/graphql-ws\/([\w-]+\.js)$/);
  if (vendor) return path.join(graphqlWsDir, vendor[1]!);
  return null;
}

/** Serves the demo chat page and its assets; false when the request is not for them. */
export async function serveDemoPage(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const file = fileFor(request.url?.split('?')[0] ?? '');
  if (!file) return false;
  try {
    const body = await readFile(file);
    response.writeHead(200, {
      'content-type': types[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  } catch {
    response.writeHead(404).end();
  }
  return true;
}
