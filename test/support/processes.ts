import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { eventually } from './harness.js';

/** The real entry point (`npm start`) in a child process of its own. */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: the process dies without cleaning up, as on a crash. */
  kill(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_ENV: 'test', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  await eventually(() => output.includes('gateway listening') || child.exitCode !== null, 60_000);
  if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      const exit = exited(child);
      child.kill('SIGTERM');
      return exit;
    },
    async kill() {
      const exit = exited(child);
      child.kill('SIGKILL');
      await exit;
    },
  };
}

/** A plain HTTP GraphQL call, as any client makes it. */
export async function execute(url: string, headers: Record<string, string>, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: Array<{ message: string; extensions?: Record<string, any> }> };
}

export function wsClient(url: string, connectionParams: Record<string, string>): Client {
  return createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
}

/** Follows a subscription, collecting the field's values until it completes or errors. */
export function follow(client: Client, query: string, variables: Record<string, unknown>, field: string) {
  const events: any[] = [];
  let cancel = () => {};
  const done = new Promise<any[]>((resolve, reject) => {
    cancel = client.subscribe(
      { query, variables },
      {
        next: (value) => {
          if (value.errors) reject(new Error(JSON.stringify(value.errors)));
          else events.push((value.data as any)[field]);
        },
        error: (error) => reject(error instanceof Error ? error : new Error(String((error as any)?.reason ?? JSON.stringify(error)))),
        complete: () => resolve(events),
      },
    );
  });
  // A dropped socket rejects; callers that drop on purpose do not wait for it.
  done.catch(() => {});
  return { events, done, cancel: () => cancel() };
}
