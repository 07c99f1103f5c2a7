import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export { freePort } from '../test/support/processes.js';

export const root = path.resolve(import.meta.dirname, '..');

export interface Percentiles {
  n: number;
  p50: number;
  p99: number;
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  return { n: sorted.length, p50: round(at(0.5)), p99: round(at(0.99)) };
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A child process pinned to one core (when taskset exists), with its output collected. */
export function spawnPinned(core: number | null, command: string[], env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const [program, ...args] = core === null ? command : ['taskset', '-c', String(core), ...command];
  const child = spawn(program!, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

export async function waitFor(check: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** CPU seconds (user + system) a process has used, from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident memory of a process in bytes, from /proc. */
export function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D/g, '')) * 1024;
}

export function wsClient(url: string, deviceId: string): Client {
  return createClient({
    url: `${url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { 'x-device-id': deviceId },
    retryAttempts: 0,
    lazy: false,
  });
}

export async function graphql(url: string, deviceId: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-device-id': deviceId },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body: { data?: any; errors?: unknown[] };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${response.status} from the gateway: ${text.slice(0, 200)}`);
  }
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

export async function connected(clients: Client[]) {
  await Promise.all(clients.map((client) => new Promise<void>((resolve) => client.on('connected', () => resolve()))));
}
