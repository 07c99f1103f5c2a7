// npm run bench [-- scenario ... | all]   scenarios: sustained (default) ttft fanout idle throughput soak
//
// The gateway runs as `npm start` would, in its own process pinned to core 0;
// the stub upstream and this load client share core 1. Results go to
// bench/results/latest.json and are printed as the tables BENCHMARKS.md holds.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import OpenAI from 'openai';
import { fanOut } from './fanout.js';
import { startGateway, startStub } from './peers.js';
import { sustainedScenario } from './sustained.js';
import { connected, cpuSeconds, graphql, now, percentiles, root, round, rssBytes, sleep, waitFor, wsClient } from './support.js';

const selected = new Set(process.argv.slice(2));
// With no scenario named, the side-by-side sustained run; `all` runs every scenario.
const wants = (name: string) => selected.has('all') || selected.has(name) || (selected.size === 0 && name === 'sustained');
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, cores: (await import('node:os')).cpus().length };

const CHAT_STREAM = `subscription ($input: SendMessageInput!) { chatStream(input: $input) { __typename seq ... on TokenDelta { delta } ... on MessageFinished { message { status } } } }`;
interface StreamTiming {
  ttft: number;
  total: number;
  tokens: number;
}

async function directStream(openai: OpenAI): Promise<StreamTiming> {
  const start = now();
  let first: number | undefined;
  let tokens = 0;
  const stream = await openai.chat.completions.create({ model: 'stub', messages: [{ role: 'user', content: 'hello' }], stream: true });
  for await (const chunk of stream) {
    if (!chunk.choices[0]?.delta?.content) continue;
    first ??= now();
    tokens += 1;
  }
  return { ttft: first! - start, total: now() - start, tokens };
}

function gatewayStream(client: Client, content: string): Promise<StreamTiming> {
  const start = now();
  let first: number | undefined;
  let tokens = 0;
  return new Promise((resolve, reject) => {
    client.subscribe(
      { query: CHAT_STREAM, variables: { input: { content } } },
      {
        next: (value) => {
          const event = (value.data as any)?.chatStream;
          if (value.errors) reject(new Error(JSON.stringify(value.errors)));
          if (event?.__typename !== 'TokenDelta') return;
          first ??= now();
          tokens += 1;
        },
        error: reject,
        complete: () => resolve({ ttft: first! - start, total: now() - start, tokens }),
      },
    );
  });
}

/** TTFT and total-stream time, direct to the stub and through the gateway, at 1, 50 and 200 concurrent streams. */
async function ttftScenario() {
  const stub = await startStub();
  const gateway = await startGateway(stub.url);
  const openai = new OpenAI({ baseURL: stub.url, apiKey: 'bench', maxRetries: 0 });
  const rows = [];
  try {
    for (const [concurrency, rounds] of (process.env.BENCH_QUICK
      ? [
          [1, 10],
          [50, 2],
        ]
      : [
          [1, 30],
          [50, 4],
          [200, 2],
        ]) as Array<[number, number]>) {
      const clients = Array.from({ length: concurrency }, (_, index) =>
        wsClient(gateway.url, `bench-${concurrency}-${index}-${randomBytes(3).toString('hex')}`),
      );
      await connected(clients);
      // Warm-up round, not recorded.
      await Promise.all(clients.map((client) => gatewayStream(client, 'warm up')));
      await Promise.all(Array.from({ length: concurrency }, () => directStream(openai)));
      const direct: StreamTiming[] = [];
      const through: StreamTiming[] = [];
      let cpu = 0;
      let tokens = 0;
      let rssPeak = 0;
      const rssBefore = rssBytes(gateway.pid);
      for (let round = 0; round < rounds; round += 1) {
        direct.push(...(await Promise.all(Array.from({ length: concurrency }, () => directStream(openai)))));
        const cpuBefore = cpuSeconds(gateway.pid);
        const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssBytes(gateway.pid))), 50);
        const timings = await Promise.all(clients.map((client, index) => gatewayStream(client, `round ${round} stream ${index}`)));
        clearInterval(sampler);
        cpu += cpuSeconds(gateway.pid) - cpuBefore;
        tokens += timings.reduce((sum, timing) => sum + timing.tokens, 0);
        through.push(...timings);
      }
      await Promise.all(clients.map((client) => client.dispose()));
      const directTtft = percentiles(direct.map((timing) => timing.ttft));
      const gatewayTtft = percentiles(through.map((timing) => timing.ttft));
      const directTotal = percentiles(direct.map((timing) => timing.total));
      const gatewayTotal = percentiles(through.map((timing) => timing.total));
      rows.push({
        concurrency,
        samples: through.length,
        ttftDirect: directTtft,
        ttftGateway: gatewayTtft,
        ttftOverheadMs: { p50: round(gatewayTtft.p50 - directTtft.p50), p99: round(gatewayTtft.p99 - directTtft.p99) },
        totalDirect: directTotal,
        totalGateway: gatewayTotal,
        totalOverheadMs: { p50: round(gatewayTotal.p50 - directTotal.p50), p99: round(gatewayTotal.p99 - directTotal.p99) },
        gatewayCpuPerTokenUs: round((cpu / tokens) * 1e6, 1),
        rssGrowthMb: round((rssPeak - rssBefore) / 1024 / 1024, 1),
      });
      console.log(JSON.stringify(rows.at(-1)));
    }
  } finally {
    await gateway.stop();
    stub.stop();
  }
  results.ttft = rows;
}

/** One stream followed by many subscribers: lag of each token behind the stub, time to finish, CPU per delivered message. */
async function fanoutScenario() {
  // Long enough for every subscription to be set up before the first token, so lag is relay lag.
  const stub = await startStub({ STUB_FIRST_TOKEN_DELAY_MS: '3000' });
  const gateway = await startGateway(stub.url, { env: { WS_MAX_OPERATIONS_PER_SOCKET: '100' } });
  const rows = [];
  try {
    // Warm-up round, not recorded: the first events through a fresh process run unoptimized code.
    await fanOut(gateway, 50);
    // Lag percentiles vary from run to run (GC, the load client sharing a core): three rounds each, pooled.
    for (const subscribers of [100, 200]) {
      const rounds = [];
      for (let round = 0; round < 3; round += 1) rounds.push(await fanOut(gateway, subscribers));
      rows.push({
        subscribers,
        lagMs: percentiles(rounds.flatMap((measured) => measured.lags)),
        lagP99PerRoundMs: rounds.map((measured) => measured.lagMs.p99),
        finishMsAfterFirstTokenPerRound: rounds.map((measured) => measured.finishMsAfterFirstToken),
        setupCpuPerSubscriberMs: percentiles(rounds.map((measured) => measured.setupCpuPerSubscriberMs)).p50,
        gatewayCpuPerDeliveredMessageUs: percentiles(rounds.map((measured) => measured.gatewayCpuPerDeliveredMessageUs)).p50,
        loadClientCpuPerDeliveredMessageUs: percentiles(rounds.map((measured) => measured.loadClientCpuPerDeliveredMessageUs)).p50,
      });
      console.log(JSON.stringify(rows.at(-1)));
    }
  } finally {
    await gateway.stop();
    stub.stop();
  }
  results.fanout = rows;
}

/** Memory of idle connections, each with one subscription open. */
async function idleScenario() {
  const stub = await startStub({ STUB_TOKENS: '3', STUB_DELAY_MS: '0' });
  const probeFile = path.join(await mkdtemp(path.join(tmpdir(), 'heap-probe-')), 'memory.json');
  const gateway = await startGateway(stub.url, { env: { HEAP_PROBE_FILE: probeFile }, nodeOptions: ['--expose-gc', '--import', './bench/heap-probe.mjs'] });
  // JS heap and external memory after a full collection, as the probe loaded into the gateway reports them.
  const collected = async () => {
    await rm(probeFile, { force: true });
    process.kill(gateway.pid, 'SIGUSR2');
    await waitFor(() => existsSync(probeFile), 10_000, 'the heap probe');
    await sleep(50);
    const { heapUsed, external } = JSON.parse(await readFile(probeFile, 'utf8'));
    return heapUsed + external;
  };
  const count = 5_000;
  try {
    const device = `idle-${randomBytes(3).toString('hex')}`;
    const chat = await graphql(gateway.url, device, `mutation { chat(input: { content: "hello" }) { conversation { id } } }`);
    const conversationId = chat.chat.conversation.id;
    await sleep(2_000);
    const before = rssBytes(gateway.pid);
    const heapBefore = await collected();
    const clients: Client[] = [];
    for (let batch = 0; batch < count / 250; batch += 1) {
      const opened = Array.from({ length: 250 }, () => wsClient(gateway.url, device));
      await connected(opened);
      clients.push(...opened);
    }
    let acknowledged = 0;
    for (const client of clients) {
      client.subscribe(
        { query: `subscription ($id: ID!) { conversationEvents(conversationId: $id) { seq } }`, variables: { id: conversationId } },
        { next: () => {}, error: () => {}, complete: () => {} },
      );
    }
    // Subscriptions are set up asynchronously; give them time, then let memory settle.
    await sleep(5_000);
    acknowledged = clients.length;
    const after = rssBytes(gateway.pid);
    const heapAfter = await collected();
    results.idle = {
      connections: acknowledged,
      rssBeforeMb: round(before / 1024 / 1024, 1),
      rssAfterMb: round(after / 1024 / 1024, 1),
      // RSS also holds garbage not yet collected and pages the heap keeps after a collection.
      rssPerConnectionKb: round((after - before) / acknowledged / 1024, 2),
      heapPerConnectionKb: round((heapAfter - heapBefore) / acknowledged / 1024, 2),
    };
    console.log(JSON.stringify(results.idle));
    await Promise.all(clients.map((client) => client.dispose()));
  } finally {
    await gateway.stop();
    stub.stop();
  }
}

/** conversations(first: 20) requests per second, on the embedded PGlite and on PostgreSQL. */
async function throughputScenario() {
  const stub = await startStub({ STUB_TOKENS: '20', STUB_DELAY_MS: '0' });
  const rows = [];
  try {
    for (const database of ['pglite', 'postgresql'] as const) {
      const gateway = await startGateway(stub.url, { database });
      try {
        const device = `list-${database}`;
        for (let batch = 0; batch < 5; batch += 1) {
          await Promise.all(
            Array.from({ length: 10 }, (_, index) =>
              graphql(gateway.url, device, `mutation ($c: String!) { chat(input: { content: $c }) { conversation { id } } }`, {
                c: `conversation ${batch}-${index}`,
              }),
            ),
          );
        }
        const query = JSON.stringify({
          query: '{ conversations(first: 20) { totalCount edges { node { id title messageCount updatedAt lastMessage { content } } } } }',
        });
        const send = () =>
          fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-device-id': device }, body: query }).then(
            (response) => response.text(),
          );
        for (let warm = 0; warm < 50; warm += 1) await send();
        const latencies: number[] = [];
        const seconds = 10;
        const deadline = Date.now() + seconds * 1000;
        const cpuBefore = cpuSeconds(gateway.pid);
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            while (Date.now() < deadline) {
              const start = now();
              await send();
              latencies.push(now() - start);
            }
          }),
        );
        const cpu = cpuSeconds(gateway.pid) - cpuBefore;
        rows.push({
          database,
          concurrency: 16,
          requestsPerSecond: round(latencies.length / seconds, 1),
          latencyMs: percentiles(latencies),
          gatewayCpuPerRequestMs: round((cpu / latencies.length) * 1000, 2),
        });
        console.log(JSON.stringify(rows.at(-1)));
      } finally {
        await gateway.stop();
      }
    }
  } finally {
    stub.stop();
  }
  results.throughput = rows;
}

/** DB writes per reply and memory after 10,000 finished streams (in a process of its own, with the GC exposed). */
async function soakScenario() {
  const stub = await startStub({ STUB_TOKENS: '20', STUB_DELAY_MS: '1' });
  try {
    const child = spawn('taskset', ['-c', '0', process.execPath, '--expose-gc', '--import', 'tsx', 'bench/soak.ts'], {
      cwd: root,
      env: { ...process.env, STUB_URL: stub.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    await new Promise((resolve) => child.once('exit', resolve));
    results.soak = JSON.parse(output.trim().split('\n').at(-1)!);
    console.log(JSON.stringify(results.soak));
  } finally {
    stub.stop();
  }
}

for (const [name, scenario] of Object.entries({
  sustained: async () => (results.sustained = await sustainedScenario()),
  ttft: ttftScenario,
  fanout: fanoutScenario,
  idle: idleScenario,
  throughput: throughputScenario,
  soak: soakScenario,
})) {
  if (!wants(name)) continue;
  console.log(`== ${name}`);
  await scenario();
}
const file = path.join(
  root,
  'bench',
  'results',
  selected.has('all') ? 'latest.json' : `latest-${selected.size === 0 ? 'sustained' : [...selected].join('-')}.json`,
);
await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`wrote ${path.relative(root, file)}`);
