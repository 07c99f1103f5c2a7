import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { exited, freePort } from '../support/processes.js';

// The real entry point with a REDIS_URL nothing listens on: it must say so and stop.
let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'gateway-redis-url-'));
});
afterAll(async () => {
  if (directory) await rm(directory, { recursive: true, force: true });
});

test('a REDIS_URL nothing answers at ends start-up with one line naming it, and a non-zero exit', async () => {
  const closedPort = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: {
      ...process.env,
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      NODE_ENV: 'test',
      DATABASE_URL: '',
      DATA_DIR: path.join(directory, 'data'),
      REDIS_URL: `redis://127.0.0.1:${closedPort}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const code = await exited(child);

  expect(code).toBe(1);
  expect(output).not.toContain('gateway listening');
  const lines = output.split('\n').filter((line) => line.includes('REDIS_URL'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`127.0.0.1:${closedPort}`);
  expect(lines[0]).toContain('ECONNREFUSED');
  // No raw client errors or uncaught exceptions around it.
  expect(output).not.toMatch(/Unhandled error event|Connection is closed|Uncaught|\n\s+at /);
}, 60_000);
