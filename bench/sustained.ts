// Sustained closed-loop load, side by side: the stub called directly, through the Portkey OSS gateway,
// and through this gateway on PGlite and on PostgreSQL, in one run. Each of N clients starts its next
// reply as soon as one ends; after a warm-up, replies are measured for a fixed time. The order of the
// four alternates per round so drift in a shared machine does not favour one of them.
import { randomBytes } from 'node:crypto';
import type { Client } from 'graphql-ws';
import OpenAI from 'openai';
import { fanOut } from './fanout.js';
import { databaseCpuMeter, type Peer, postgresReachable, startGateway, startPortkey, startStub } from './peers.js';
import { connected, cpuSeconds, now, percentiles, round, rssBytes, sleep, wsClient } from './support.js';

const settings = {
  seconds: Number(process.env.BENCH_SECONDS ?? 15),
  warmUpSeconds: Number(process.env.BENCH_WARMUP_SECONDS ?? 4),
  rounds: Number(process.env.BENCH_ROUNDS ?? 2),
  streams: (process.env.BENCH_STREAMS ?? '1,50,200').split(',').map(Number),
  fanOutSubscribers: Number(process.env.BENCH_FANOUT ?? 200),
  /** Which peers run beside the direct calls (profiling one gateway, say). */
  targets: new Set((process.env.BENCH_TARGETS ?? 'portkey,pglite,postgresql').split(',')),
};

const CHAT_STREAM = `subscription ($input: SendMessageInput!) { chatStream(input: $input) { __typename ... on TokenDelta { delta } ... on MessageFinished { message { status } } } }`;

/** The stub stamps each token with the time it was sent, followed by a space: a delta may carry several. */
const tokensIn = (delta: string) => delta.split(' ').length - 1;

interface Reply {
  started: number;
  ttft: number;
  total: number;
}

/** One reply; `onTokens` is told of each delta's tokens as they arrive. */
type ReplyRunner = (onTokens: (count: number) => void) => Promise<Reply>;

interface Target {
  name: 'direct' | 'portkey' | 'pglite' | 'postgresql';
  peer?: Peer;
  database?: ReturnType<typeof databaseCpuMeter>;
  /** Opens `count` clients; returns a runner per client and how to close them. */
  open(count: number): Promise<{ runners: ReplyRunner[]; close(): Promise<void> }>;
}

function openaiRunner(openai: OpenAI): ReplyRunner {
  return async (onTokens) => {
    const started = now();
    let first: number | undefined;
    const stream = await openai.chat.completions.create({ model: 'stub', messages: [{ role: 'user', content: 'hello' }], stream: true });
    for await (const chunk of stream) {
      const content = chunk.choices[0]?.delta?.content;
      if (!content) continue;
      first ??= now();
      onTokens(tokensIn(content));
    }
    return { started, ttft: first! - started, total: now() - started };
  };
}

function gatewayRunner(client: Client): ReplyRunner {
  return (onTokens) => {
    const started = now();
    let first: number | undefined;
    return new Promise((resolve, reject) => {
      client.subscribe(
        { query: CHAT_STREAM, variables: { input: { content: `hello ${started}` } } },
        {
          next: (value) => {
            if (value.errors) reject(new Error(JSON.stringify(value.errors)));
            const event = (value.data as any)?.chatStream;
            if (event?.__typename !== 'TokenDelta') return;
            first ??= now();
            onTokens(tokensIn(event.delta));
          },
          error: reject,
          complete: () => resolve({ started, ttft: first! - started, total: now() - started }),
        },
      );
    });
  };
}

function openaiTarget(name: 'direct' | 'portkey', baseURL: string, headers: Record<string, string>, peer?: Peer): Target {
  return {
    name,
    peer,
    async open(count) {
      const openai = new OpenAI({ baseURL, apiKey: 'bench', maxRetries: 0, defaultHeaders: headers });
      return { runners: Array.from({ length: count }, () => openaiRunner(openai)), close: async () => {} };
    },
  };
}

function gatewayTarget(name: 'pglite' | 'postgresql', peer: Peer & { schema?: string }): Target {
  return {
    name,
    peer,
    database: peer.schema ? databaseCpuMeter(`gateway_bench_${peer.schema}`) : undefined,
    async open(count) {
      const clients = Array.from({ length: count }, (_, index) => wsClient(peer.url, `sustained-${count}-${index}-${randomBytes(3).toString('hex')}`));
      await connected(clients);
      return { runners: clients.map(gatewayRunner), close: () => Promise.all(clients.map((client) => client.dispose())).then(() => {}) };
    },
  };
}

/**
 * One cell: `streams` clients in a closed loop. The warm-up lasts until every client has finished a
 * reply (and at least BENCH_WARMUP_SECONDS); then replies are measured for BENCH_SECONDS.
 */
async function runCell(target: Target, streams: number) {
  const { runners, close } = await target.open(streams);
  const minimumWarmEnd = now() + settings.warmUpSeconds * 1000;
  let warmEnd = Infinity;
  let end = Infinity;
  const replies: Reply[] = [];
  const errors: string[] = [];
  let warmed = 0;
  let finished = 0;
  let tokens = 0;
  let rssPeak = 0;
  let cpu = 0;
  let database = 0;
  const measuring = () => {
    const at = now();
    return at >= warmEnd && at < end;
  };
  let closing: Promise<void> | undefined;
  const startWindow = async () => {
    warmEnd = Math.max(now(), minimumWarmEnd);
    await sleep(warmEnd - now());
    end = warmEnd + settings.seconds * 1000;
    const cpuStart = target.peer ? cpuSeconds(target.peer.pid) : 0;
    const databaseStart = (await target.database?.read()) ?? 0;
    await sleep(end - now());
    if (target.peer) cpu = cpuSeconds(target.peer.pid) - cpuStart;
    if (target.database) database = (await target.database.read()) - databaseStart;
  };
  const sampler = setInterval(() => {
    if (target.peer && measuring()) rssPeak = Math.max(rssPeak, rssBytes(target.peer.pid));
  }, 100);
  await Promise.all(
    runners.map(async (runner) => {
      for (let first = true; now() < end; first = false) {
        const reply = await runner((count) => {
          if (measuring()) tokens += count;
        }).catch((error: unknown) => {
          // A refused or broken reply is counted, and that client stops (its socket may be gone).
          errors.push(String((error as Error)?.message ?? (error as { reason?: string })?.reason ?? error).slice(0, 200));
          return null;
        });
        if (first && (warmed += 1) === streams) closing = startWindow();
        if (!reply) break;
        if (reply.started >= warmEnd) replies.push(reply);
        if (measuring()) finished += 1;
      }
    }),
  );
  await closing;
  clearInterval(sampler);
  await close();
  return { replies, finished, tokens, cpu, database, rssPeak, errors };
}

type Cell = Awaited<ReturnType<typeof runCell>>;

function summarize(cells: Cell[], direct: Cell[]) {
  const pick = (of: Cell[], key: 'ttft' | 'total') => percentiles(of.flatMap((cell) => cell.replies.map((reply) => reply[key])));
  const ttft = pick(cells, 'ttft');
  const total = pick(cells, 'total');
  const directTtft = pick(direct, 'ttft');
  const directTotal = pick(direct, 'total');
  const finished = cells.reduce((sum, cell) => sum + cell.finished, 0);
  const seconds = settings.seconds * cells.length;
  const cpu = cells.reduce((sum, cell) => sum + cell.cpu, 0);
  const database = cells.reduce((sum, cell) => sum + cell.database, 0);
  return {
    replies: ttft.n,
    errors: cells.flatMap((cell) => cell.errors).slice(0, 5),
    errorCount: cells.reduce((sum, cell) => sum + cell.errors.length, 0),
    ttftMs: ttft,
    totalMs: total,
    ttftOverheadMs: { p50: round(ttft.p50 - directTtft.p50), p99: round(ttft.p99 - directTtft.p99) },
    totalOverheadMs: { p50: round(total.p50 - directTotal.p50), p99: round(total.p99 - directTotal.p99) },
    repliesPerSecond: round(finished / seconds, 1),
    tokensPerSecond: round(cells.reduce((sum, cell) => sum + cell.tokens, 0) / seconds, 0),
    cpuPerReplyMs: round((cpu / Math.max(1, finished)) * 1000, 1),
    databaseCpuPerReplyMs: round((database / Math.max(1, finished)) * 1000, 1),
    rssPeakMb: round(Math.max(...cells.map((cell) => cell.rssPeak)) / 1024 / 1024, 0),
  };
}

type Summary = ReturnType<typeof summarize>;

/** Each figure of ours over Portkey's (overheads too: below 1 is better for those, above 1 for rates). */
function ratios(ours: Summary, portkey: Summary) {
  const ratio = (a: number, b: number) => (b === 0 ? null : round(a / b, 2));
  return {
    ttftOverheadP50: ratio(ours.ttftOverheadMs.p50, portkey.ttftOverheadMs.p50),
    ttftOverheadP99: ratio(ours.ttftOverheadMs.p99, portkey.ttftOverheadMs.p99),
    totalOverheadP50: ratio(ours.totalOverheadMs.p50, portkey.totalOverheadMs.p50),
    totalOverheadP99: ratio(ours.totalOverheadMs.p99, portkey.totalOverheadMs.p99),
    repliesPerSecond: ratio(ours.repliesPerSecond, portkey.repliesPerSecond),
    tokensPerSecond: ratio(ours.tokensPerSecond, portkey.tokensPerSecond),
    cpuPerReply: ratio(ours.cpuPerReplyMs, portkey.cpuPerReplyMs),
    cpuPerReplyWithDatabase: ratio(ours.cpuPerReplyMs + ours.databaseCpuPerReplyMs, portkey.cpuPerReplyMs),
    rssPeak: ratio(ours.rssPeakMb, portkey.rssPeakMb),
  };
}

type Row = { streams: number; ratiosToPortkey: Record<string, ReturnType<typeof ratios> | null> } & Record<string, unknown>;

/** The figures as BENCHMARKS.md shows them: each of ours, and its ratio to Portkey's. */
function markdown(rows: Row[]) {
  const figures: Array<[string, (summary: Summary) => number, keyof ReturnType<typeof ratios>]> = [
    ['TTFT overhead p50 (ms)', (s) => s.ttftOverheadMs.p50, 'ttftOverheadP50'],
    ['TTFT overhead p99 (ms)', (s) => s.ttftOverheadMs.p99, 'ttftOverheadP99'],
    ['total-stream overhead p50 (ms)', (s) => s.totalOverheadMs.p50, 'totalOverheadP50'],
    ['total-stream overhead p99 (ms)', (s) => s.totalOverheadMs.p99, 'totalOverheadP99'],
    ['replies/s', (s) => s.repliesPerSecond, 'repliesPerSecond'],
    ['tokens/s', (s) => s.tokensPerSecond, 'tokensPerSecond'],
    ['CPU per reply (ms)', (s) => s.cpuPerReplyMs, 'cpuPerReply'],
    ['RSS peak (MB)', (s) => s.rssPeakMb, 'rssPeak'],
  ];
  const lines = ['| streams | figure | direct | Portkey | PGlite (× Portkey) | PostgreSQL (× Portkey) |', '|---:|---|---:|---:|---:|---:|'];
  for (const row of rows) {
    for (const [label, value, key] of figures) {
      const cell = (name: string) => {
        const summary = row[name] as Summary | undefined;
        if (!summary) return '—';
        const ratio = row.ratiosToPortkey[name]?.[key];
        const database = key === 'cpuPerReply' && summary.databaseCpuPerReplyMs ? ` + ${summary.databaseCpuPerReplyMs} DB` : '';
        return `${value(summary)}${database}${ratio === undefined ? '' : ` (${ratio ?? '—'})`}`;
      };
      lines.push(`| ${row.streams} | ${label} | ${cell('direct')} | ${cell('portkey')} | ${cell('pglite')} | ${cell('postgresql')} |`);
    }
  }
  return lines.join('\n');
}

export async function sustainedScenario() {
  const stub = await startStub();
  const slowStub = await startStub({ STUB_FIRST_TOKEN_DELAY_MS: '3000' });
  const peers: Peer[] = [];
  const targets: Target[] = [openaiTarget('direct', stub.url, {})];
  try {
    if (settings.targets.has('portkey')) {
      const portkey = await startPortkey();
      peers.push(portkey);
      targets.push(openaiTarget('portkey', `${portkey.url}/v1`, { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': stub.url }, portkey));
    }
    if (settings.targets.has('pglite')) {
      const pglite = await startGateway(stub.url, { database: 'pglite', slowStubUrl: slowStub.url, env: { WS_MAX_OPERATIONS_PER_SOCKET: '100' } });
      peers.push(pglite);
      targets.push(gatewayTarget('pglite', pglite));
    }
    if (settings.targets.has('postgresql') && (await postgresReachable())) {
      const postgresql = await startGateway(stub.url, { database: 'postgresql', slowStubUrl: slowStub.url, env: { WS_MAX_OPERATIONS_PER_SOCKET: '100' } });
      peers.push(postgresql);
      targets.push(gatewayTarget('postgresql', postgresql));
    }
    for (const target of targets) await target.database?.start();
    const rows: Row[] = [];
    for (const streams of settings.streams) {
      const cells = new Map<string, Cell[]>(targets.map((target) => [target.name, []]));
      for (let index = 0; index < settings.rounds; index += 1) {
        const order = index % 2 === 0 ? targets : [...targets].reverse();
        for (const target of order) {
          const cell = await runCell(target, streams);
          cells.get(target.name)!.push(cell);
          console.log(
            JSON.stringify({ streams, round: index, target: target.name, replies: cell.replies.length, finished: cell.finished, errors: cell.errors.length }),
          );
          await sleep(1_000);
        }
      }
      const summaries = Object.fromEntries(targets.map((target) => [target.name, summarize(cells.get(target.name)!, cells.get('direct')!)]));
      const toPortkey = Object.fromEntries(
        targets
          .filter((target) => target.name === 'pglite' || target.name === 'postgresql')
          .map((target) => [target.name, summaries.portkey ? ratios(summaries[target.name]!, summaries.portkey) : null]),
      );
      rows.push({ streams, ...summaries, ratiosToPortkey: toPortkey });
      console.log(JSON.stringify(rows.at(-1)));
    }
    const fanouts = [];
    for (const target of targets.filter((each) => each.name === 'pglite' || each.name === 'postgresql')) {
      await fanOut(target.peer!, 50, 'stub-slow');
      const rounds = [];
      for (let index = 0; index < settings.rounds; index += 1) rounds.push(await fanOut(target.peer!, settings.fanOutSubscribers, 'stub-slow'));
      fanouts.push({
        database: target.name,
        subscribers: settings.fanOutSubscribers,
        lagMs: percentiles(rounds.flatMap((each) => each.lags)),
        lagP99PerRoundMs: rounds.map((each) => each.lagMs.p99),
        finishMsAfterFirstTokenPerRound: rounds.map((each) => each.finishMsAfterFirstToken),
      });
      console.log(JSON.stringify(fanouts.at(-1)));
    }
    console.log(markdown(rows));
    return { settings, rows, fanouts };
  } finally {
    for (const target of targets) await target.database?.stop().catch(() => {});
    for (const peer of peers) await peer.stop().catch(() => {});
    stub.stop();
    slowStub.stop();
  }
}
