import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, test } from 'vitest';
import { exited } from '../support/processes.js';

// The real entry point with values it cannot start with: one line naming each, and a non-zero exit.
async function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: { ...process.env, HOST: '127.0.0.1', NODE_ENV: 'test', DATABASE_URL: '', DATA_DIR: 'memory://', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const code = await exited(child);
  return { code, lines: output.split('\n').filter(Boolean), output };
}

test('a number like 10abc and an unparsable FALLBACK_MODELS stop the start with one line naming both', async () => {
  const { code, lines, output } = await start({ PORT: '10abc', FALLBACK_MODELS: '{"gpt-4o": gpt-4o-mini}', LOG_LEVEL: 'info' });

  expect(code).toBe(1);
  expect(lines).toHaveLength(1);
  const { msg, level } = JSON.parse(lines[0]!) as { msg: string; level: number };
  expect(level).toBe(60);
  expect(msg).toMatch(/^Invalid configuration: PORT must be a whole number \(got "10abc"\); FALLBACK_MODELS is not valid JSON: /);
  expect(output).not.toMatch(/\n\s+at |gateway listening/);
}, 60_000);

test('a bad LOG_LEVEL is reported too, not thrown by the logger', async () => {
  const { code, lines } = await start({ LOG_LEVEL: 'loud' });
  expect(code).toBe(1);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got \\"loud\\")');
}, 60_000);
