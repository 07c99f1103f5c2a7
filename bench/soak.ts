// 10,000 buffered chat replies through a gateway in this process: database
// writes per reply, and resident memory after warm-up and at the end (after a
// full GC each time). Run by bench/run.ts with --expose-gc and STUB_URL set.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../src/app.js';
import { round } from './support.js';

const total = Number(process.env.SOAK_REPLIES ?? 10_000);
const warmUp = 1_000;
const concurrency = 50;
const directory = await mkdtemp(path.join(tmpdir(), 'gateway-soak-'));
const app = await buildApp({
  dataDir: path.join(directory, 'data'),
  databaseUrl: undefined,
  logLevel: 'warn',
  providers: [
    { id: 'stub', baseURL: process.env.STUB_URL!, apiKey: 'bench', models: [{ id: 'stub', contextWindow: 128_000, inputPrice: 0.01, outputPrice: 0.01 }] },
  ],
  defaultModel: 'stub',
  guestPerMinute: 1_000_000_000,
  freeMessageThreshold: 0,
  maxOutputTokensPerReply: 1_000,
  eventLogRetentionMs: 1_000,
});
const url = await app.start(0, '127.0.0.1');
const { db } = app.services;
const query = JSON.stringify({
  query: 'mutation ($input: SendMessageInput!) { chat(input: $input) { replies { status } } }',
  variables: { input: { content: 'soak' } },
});

let sent = 0;
async function worker(until: number) {
  while (sent < until) {
    sent += 1;
    const device = `soak-${sent % 200}`;
    const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-device-id': device }, body: query });
    const body = (await response.json()) as { errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
  }
}

const settledRss = async () => {
  // Event logs of finished replies expire after a second; let them, then collect.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().rss;
};

await Promise.all(Array.from({ length: concurrency }, () => worker(warmUp)));
const warmRss = await settledRss();
const writesBefore = db.statements.writes;
const statementsBefore = db.statements.total;
await Promise.all(Array.from({ length: concurrency }, () => worker(total)));
const replies = total - warmUp;
const endRss = await settledRss();
const result = {
  replies: total,
  writesPerReply: round((db.statements.writes - writesBefore) / replies, 2),
  statementsPerReply: round((db.statements.total - statementsBefore) / replies, 2),
  rssAfterWarmUpMb: round(warmRss / 1024 / 1024, 1),
  rssAfterAllMb: round(endRss / 1024 / 1024, 1),
  rssGrowthPercent: round(((endRss - warmRss) / warmRss) * 100, 1),
};
await app.stop();
await rm(directory, { recursive: true, force: true });
console.log(JSON.stringify(result));
process.exit(0);
