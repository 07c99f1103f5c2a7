import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';

// The operator CLI as documented: `npm run admin -- <command>`, against an embedded database directory.
const run = promisify(execFile);
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'gateway-admin-'));
});
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function admin(...args: string[]) {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/admin.ts', ...args], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'silent' },
  });
  return JSON.parse(stdout);
}

test('operators create users, set tiers, grant credits, build teams and issue keys', async () => {
  const owner = await admin('create-user', '--email', 'Owner@Example.com', '--tier', 'basic');
  expect(owner).toMatchObject({ email: 'owner@example.com', tier: 'BASIC', creditBalance: 5_000_000 });
  await admin('create-user', '--email', 'member@example.com');
  expect((await admin('set-tier', '--email', 'owner@example.com', '--tier', 'ENTERPRISE')).tier).toBe('ENTERPRISE');
  expect((await admin('grant-credits', '--email', 'owner@example.com', '--amount', '1000')).credits).toBe(5_001_000);
  const team = await admin('create-team', '--owner', 'owner@example.com', '--name', 'Support');
  await admin('add-member', '--team', team.id, '--email', 'member@example.com');
  const key = await admin('create-key', '--email', 'owner@example.com', '--name', 'helpdesk', '--external', '--scopes', 'read,chat');
  expect(key.secret).toMatch(/^gwk_/);
  expect(key).toMatchObject({ allowExternalUsage: true, scopes: ['read', 'chat'] });
  const shown = await admin('show-user', '--email', 'owner@example.com');
  expect(shown.teams.map((entry: any) => entry.name)).toEqual(['Support']);
  expect(shown.keys.map((entry: any) => entry.name)).toEqual(['helpdesk']);
}, 180_000);

test('a mistake exits non-zero with a clear message', async () => {
  await expect(admin('set-tier', '--email', 'nobody@example.com', '--tier', 'PRO')).rejects.toMatchObject({
    stderr: expect.stringContaining('No user with email nobody@example.com'),
  });
  await expect(admin('create-user', '--email', 'gold@example.com', '--tier', 'GOLD')).rejects.toMatchObject({
    stderr: expect.stringContaining('--tier must be one of'),
  });
}, 60_000);
