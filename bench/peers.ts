// The processes a benchmark measures: the stub upstream, the gateway (as `npm start` runs it, on the
// embedded PGlite or on PostgreSQL) and the Portkey OSS gateway as a peer, each started on loopback.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { cpuSeconds, freePort, spawnPinned, waitFor } from './support.js';

export const postgresUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface Peer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startStub(env: Record<string, string> = {}) {
  const stub = spawnPinned(1, [process.execPath, '--import', 'tsx', 'bench/stub-upstream.ts'], env);
  await waitFor(() => stub.output().includes('http://'), 30_000, 'the stub upstream');
  return {
    url: stub.output().trim().split('\n')[0]!,
    stop() {
      stub.child.kill('SIGTERM');
      setTimeout(() => stub.child.kill('SIGKILL'), 2_000).unref();
    },
  };
}

async function stopChild(child: import('node:child_process').ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Polls a URL until the process behind it answers. */
async function answering(url: string, exited: () => boolean, headers: Record<string, string> = {}) {
  let up = false;
  const poll = setInterval(
    () =>
      void fetch(url, { headers }).then(
        () => (up = true),
        () => {},
      ),
    200,
  );
  try {
    await waitFor(() => up || exited(), 60_000, url);
  } finally {
    clearInterval(poll);
  }
}

export interface GatewayOptions {
  env?: Record<string, string>;
  nodeOptions?: string[];
  /** Overrides BENCH_DATABASE for this gateway. */
  database?: 'pglite' | 'postgresql';
  /** A second model, `stub-slow`, served by another stub (fan-out holds its first token). */
  slowStubUrl?: string;
}

export async function startGateway(stubUrl: string, options: GatewayOptions = {}): Promise<Peer & { schema?: string }> {
  const directory = await mkdtemp(path.join(tmpdir(), 'gateway-bench-'));
  const providersFile = path.join(directory, 'providers.json');
  const model = (id: string) => ({ id, contextWindow: 128_000, inputPrice: 0.01, outputPrice: 0.01 });
  const providers = [{ id: 'stub', baseURL: stubUrl, apiKey: 'bench', models: [model('stub')] }];
  if (options.slowStubUrl) providers.push({ id: 'stub-slow', baseURL: options.slowStubUrl, apiKey: 'bench', models: [model('stub-slow')] });
  await writeFile(providersFile, JSON.stringify({ providers }));
  const port = await freePort();
  // BENCH_PROFILE=<dir> writes a V8 CPU profile of the gateway there when it exits.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const database = options.database ?? (process.env.BENCH_DATABASE === 'postgresql' ? 'postgresql' : 'pglite');
  const schema = database === 'postgresql' ? `bench_${randomBytes(4).toString('hex')}` : undefined;
  // The application name lets the database server's CPU for this gateway be measured apart.
  const databaseUrl = `${postgresUrl}${postgresUrl.includes('?') ? '&' : '?'}application_name=gateway_bench_${schema}`;
  const gateway = spawnPinned(0, [process.execPath, ...(options.nodeOptions ?? []), ...profile, '--import', 'tsx', 'src/main.ts'], {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: path.join(directory, 'data'),
    DATABASE_URL: '',
    PROVIDERS_FILE: providersFile,
    DEFAULT_MODEL: 'stub',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    GUEST_RATE_LIMIT_PER_MINUTE: '1000000000',
    FREE_MESSAGE_THRESHOLD: '0',
    INITIAL_CREDITS_FREE: '2000000000',
    MAX_OUTPUT_TOKENS_PER_REPLY: '1000',
    WS_MAX_CONNECTIONS_PER_IP: '100000',
    HTTP_MAX_CONNECTIONS_PER_IP: '100000',
    ...(schema ? { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schema } : {}),
    ...options.env,
  });
  const url = `http://127.0.0.1:${port}`;
  // Logs are at warn (an info line per operation would be measured too): poll until it answers.
  await answering(`${url}/graphql?query=%7B__typename%7D`, () => gateway.child.exitCode !== null, { 'x-device-id': 'bench' });
  if (gateway.child.exitCode !== null) throw new Error(gateway.output());
  return {
    url,
    pid: gateway.child.pid!,
    schema,
    async stop() {
      await stopChild(gateway.child);
      await rm(directory, { recursive: true, force: true });
      if (schema) {
        const { dropSchema } = await import('../src/lib/db.js');
        await dropSchema(postgresUrl, schema).catch(() => {});
      }
    },
  };
}

/**
 * The Portkey OSS gateway (@portkey-ai/gateway, pinned in package.json), pinned to core 0 like ours.
 * Clients reach the stub through it with `x-portkey-provider: openai` and `x-portkey-custom-host`.
 */
export async function startPortkey(): Promise<Peer> {
  const require = createRequire(import.meta.url);
  const entry = path.join(path.dirname(require.resolve('@portkey-ai/gateway/package.json')), 'build', 'start-server.js');
  const port = await freePort();
  const portkey = spawnPinned(0, [process.execPath, entry, `--port=${port}`], { NODE_ENV: 'production' });
  const url = `http://127.0.0.1:${port}`;
  await answering(url, () => portkey.child.exitCode !== null);
  if (portkey.child.exitCode !== null) throw new Error(portkey.output());
  return { url, pid: portkey.child.pid!, stop: () => stopChild(portkey.child) };
}

/**
 * CPU seconds the PostgreSQL server spent for one gateway: the backends its pool opened (found by
 * application name). Backends are sampled as they come and go, so one that closes keeps its last reading.
 */
export function databaseCpuMeter(applicationName: string) {
  const client = new pg.Client({ connectionString: postgresUrl });
  const seen = new Map<number, number>();
  let timer: NodeJS.Timeout | undefined;
  const sample = async () => {
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
    for (const { pid } of rows) {
      try {
        seen.set(pid, cpuSeconds(pid));
      } catch {}
    }
    for (const pid of seen.keys()) {
      try {
        seen.set(pid, cpuSeconds(pid));
      } catch {}
    }
  };
  const total = () => [...seen.values()].reduce((sum, value) => sum + value, 0);
  return {
    async start() {
      await client.connect();
      await sample();
      timer = setInterval(() => void sample().catch(() => {}), 250);
    },
    async read() {
      await sample();
      return total();
    },
    async stop() {
      clearInterval(timer);
      await client.end();
    },
  };
}

/** Whether the PostgreSQL server answers (the PostgreSQL cells are skipped when it does not). */
export async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}
