import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createBatchService } from '../../src/modules/batch/batch.service.js';
import { codeOf, eventually, startGateway, type Gateway } from '../support/harness.js';

const JOB_FIELDS = 'id status model { id } total completed failed cost createdAt completedAt resultsUrl';
const SUBMIT = /* GraphQL */ `mutation ($input: BatchInput!) { submitBatch(input: $input) { ${JOB_FIELDS} } }`;
const JOB = /* GraphQL */ `query ($id: ID!) { batchJob(id: $id) { ${JOB_FIELDS} } }`;
const JOBS = /* GraphQL */ `query ($first: Int, $after: String) { batchJobs(first: $first, after: $after) { totalCount edges { cursor node { id status } } pageInfo { hasNextPage endCursor } } }`;
const CANCEL = /* GraphQL */ `mutation ($id: ID!) { cancelBatch(id: $id) { ${JOB_FIELDS} } }`;

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({ batchConcurrency: 3, batchPollMs: 50 });
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

const balanceOf = async (userId: string) => (await gateway.app.services.db.prisma.user.findUniqueOrThrow({ where: { id: userId } })).creditBalance;
const requests = (count: number, prefix = 'q') =>
  Array.from({ length: count }, (_, index) => ({ customId: `${prefix}-${index + 1}`, content: `${prefix} question ${index + 1}` }));

async function finished(caller: { execute: (query: string, variables?: Record<string, unknown>) => Promise<{ data?: any }> }, id: string) {
  return eventually(async () => {
    const job = (await caller.execute(JOB, { id })).data.batchJob;
    return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status) ? job : null;
  }, 20_000);
}

async function download(url: string, headers: Record<string, string>) {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    text,
    lines: response.ok
      ? text
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line))
      : [],
  };
}

describe('batch jobs', () => {
  test('a job runs every request with bounded concurrency, reports progress and cost, and streams JSONL to its owner', async () => {
    const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    gateway.upstream.behave({ tokens: 8, delayMs: 15 });
    const submitted = await user.execute(SUBMIT, { input: { model: 'fake-a', systemPrompt: 'Answer briefly.', requests: requests(9) } });
    expect(submitted.errors).toBeUndefined();
    expect(submitted.data.submitBatch).toMatchObject({ status: 'QUEUED', model: { id: 'fake-a' }, total: 9, completed: 0, failed: 0, resultsUrl: null });

    const job = await finished(user, submitted.data.submitBatch.id);
    expect(job).toMatchObject({ status: 'COMPLETED', total: 9, completed: 9, failed: 0 });
    expect(job.completedAt).not.toBeNull();
    const chats = gateway.upstream.requests.filter((request) => request.path.endsWith('/chat/completions'));
    expect(chats).toHaveLength(9);
    expect(chats.every((request) => request.body.messages[0].content === 'Answer briefly.' && request.body.stream !== true)).toBe(true);
    expect(gateway.upstream.peakRequests()).toBeGreaterThan(1);
    expect(gateway.upstream.peakRequests()).toBeLessThanOrEqual(3);

    const results = await download(job.resultsUrl, user.headers);
    expect(results.status).toBe(200);
    expect(results.type).toContain('application/jsonl');
    expect(results.lines.map((line) => line.custom_id)).toEqual(requests(9).map((request) => request.customId));
    expect(results.lines.every((line) => line.status === 'succeeded' && line.response.content.includes('tok8') && line.error === null)).toBe(true);

    // Each request paid for what it used, and the job's cost is their sum.
    const costs = results.lines.map((line) => line.response.cost as number);
    expect(job.cost).toBeCloseTo(
      costs.reduce((sum, cost) => sum + cost, 0),
      9,
    );
    expect(await balanceOf(user.id)).toBe(1_000_000 - costs.reduce((sum, cost) => sum + Math.ceil(cost * 1_000_000 - 1e-9), 0));
  });

  test('jobs are private: another caller sees nothing and cannot download or cancel them', async () => {
    const owner = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    const other = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    const id = (await owner.execute(SUBMIT, { input: { model: 'fake-a', requests: requests(2) } })).data.submitBatch.id;
    const job = await finished(owner, id);
    expect((await other.execute(JOB, { id })).data.batchJob).toBeNull();
    expect((await other.execute(JOBS)).data.batchJobs.totalCount).toBe(0);
    expect(codeOf(await other.execute(CANCEL, { id }))).toBe('NOT_FOUND');
    expect((await download(job.resultsUrl, other.headers)).status).toBe(404);
    expect((await download(job.resultsUrl, {})).status).toBe(401);
    expect((await owner.execute(JOBS)).data.batchJobs).toMatchObject({ totalCount: 1, edges: [{ node: { id, status: 'COMPLETED' } }] });
  });

  test('bad input is refused whole, and batch is a PRO feature', async () => {
    const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    const bad = [
      { model: 'fake-a', requests: [] },
      {
        model: 'fake-a',
        requests: [
          { customId: 'same', content: 'a' },
          { customId: 'same', content: 'b' },
        ],
      },
      { model: 'fake-a', requests: [{ customId: 'x', content: '   ' }] },
      { model: 'no-such-model', requests: requests(1) },
    ];
    for (const input of bad) expect(codeOf(await user.execute(SUBMIT, { input })), JSON.stringify(input)).toBe('BAD_USER_INPUT');
    expect((await user.execute(JOBS)).data.batchJobs.totalCount).toBe(0);
    expect(codeOf(await (await gateway.user({ tier: 'BASIC' })).execute(SUBMIT, { input: { model: 'fake-a', requests: requests(1) } }))).toBe('FORBIDDEN');
  });

  test('a provider failure fails the requests (and the job), charging nothing', async () => {
    const user = await gateway.user({ tier: 'PRO', credits: 200_000 });
    gateway.upstream.behave({ failStatus: 500 });
    const id = (await user.execute(SUBMIT, { input: { model: 'fake-a', requests: requests(3) } })).data.submitBatch.id;
    const job = await finished(user, id);
    expect(job).toMatchObject({ status: 'FAILED', completed: 0, failed: 3, cost: 0 });
    const results = await download(job.resultsUrl, user.headers);
    expect(results.lines.map((line) => [line.status, line.error.code])).toEqual([
      ['failed', 'PROVIDER_ERROR'],
      ['failed', 'PROVIDER_ERROR'],
      ['failed', 'PROVIDER_ERROR'],
    ]);
    expect(await balanceOf(user.id)).toBe(200_000);
  });

  test('cancelling keeps what was answered, cancels the rest, and leaves no credits reserved', async () => {
    const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    gateway.upstream.behave({ tokens: 10, delayMs: 20 });
    const id = (await user.execute(SUBMIT, { input: { model: 'fake-a', requests: requests(30) } })).data.submitBatch.id;
    await eventually(async () => (await user.execute(JOB, { id })).data.batchJob.completed >= 3);
    const cancelled = await user.execute(CANCEL, { id });
    expect(cancelled.data.cancelBatch.status).toBe('CANCELLED');
    // In-flight requests end too; then nothing runs any more.
    const prisma = gateway.app.services.db.prisma;
    await eventually(async () => (await prisma.batchRequest.count({ where: { jobId: await rawId(id), status: { in: ['RUNNING', 'PENDING'] } } })) === 0);
    const job = (await user.execute(JOB, { id })).data.batchJob;
    expect(job.status).toBe('CANCELLED');
    expect(job.completed).toBeLessThan(30);
    const results = await download(job.resultsUrl, user.headers);
    const succeeded = results.lines.filter((line) => line.status === 'succeeded');
    expect(succeeded).toHaveLength(job.completed);
    expect(results.lines.filter((line) => line.status === 'cancelled').length).toBe(30 - job.completed - job.failed);
    const spent = succeeded.reduce((sum, line) => sum + Math.ceil(line.response.cost * 1_000_000 - 1e-9), 0);
    expect(await balanceOf(user.id)).toBe(1_000_000 - spent);
  });

  test('an answer that cannot be stored is charged once, and its reservation is not refunded again', async () => {
    const prisma = gateway.app.services.db.prisma;
    const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    // PostgreSQL text cannot hold a NUL character, so the answer is produced (and billed by the provider) but its row update fails.
    gateway.upstream.behave({ reply: 'unstorable \u0000 answer' });
    const id = (await user.execute(SUBMIT, { input: { model: 'fake-a', requests: requests(3, 'nul') } })).data.submitBatch.id;
    await eventually(async () => (await prisma.batchRequest.count({ where: { jobId: await rawId(id), status: { in: ['PENDING', 'RUNNING'] } } })) === 0);
    const job = await finished(user, id);
    expect(job).toMatchObject({ status: 'FAILED', completed: 0, failed: 3 });

    const rows = await prisma.batchRequest.findMany({ where: { jobId: await rawId(id) }, orderBy: { position: 'asc' } });
    const model = gateway.app.services.catalog.find('fake-a')!;
    // The fake provider counts ceil(length / 4) + 3 tokens per prompt message and one per word of the answer.
    const charges = rows.map((row) =>
      gateway.app.services.credits.creditsFor(gateway.app.services.catalog.costOf(model, Math.ceil(row.content.length / 4) + 3, 3)),
    );
    for (const [index, row] of rows.entries()) {
      const entries = await prisma.creditLedgerEntry.findMany({ where: { reference: row.id } });
      expect(entries.map((entry) => entry.kind).sort()).toEqual(['refund', 'reserve']);
      expect(entries.reduce((sum, entry) => sum + entry.delta, 0)).toBe(-charges[index]!);
      expect(gateway.app.services.credits.creditsFor(row.cost ?? 0)).toBe(charges[index]);
      expect(row).toMatchObject({ status: 'FAILED', errorCode: 'INTERNAL', response: null });
    }
    const charged = charges.reduce((sum, charge) => sum + charge, 0);
    expect(charged).toBeGreaterThan(0);
    expect(await balanceOf(user.id)).toBe(1_000_000 - charged);
    expect(job.cost).toBeCloseTo(
      rows.reduce((sum, row) => sum + (row.cost ?? 0), 0),
      9,
    );
    const usage = await prisma.usageEvent.findMany({ where: { billedUserId: user.id, action: 'BATCH' } });
    expect(usage).toHaveLength(3);
    expect(usage.reduce((sum, event) => sum + gateway.app.services.credits.creditsFor(event.cost), 0)).toBe(charged);
  });

  test('a job taken over from a dead instance returns its open reservations, keeps its settled ones, and runs again under new references', async () => {
    const prisma = gateway.app.services.db.prisma;
    const credits = gateway.app.services.credits;
    const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    gateway.upstream.behave({ tokens: 4 });
    // An instance mid-way through two requests: it had reserved for both, and had settled the second (its answer
    // came back) but died before storing it. Then it stops heart-beating.
    const job = await prisma.batchJob.create({
      data: {
        ownerId: user.id,
        billedUserId: user.id,
        tier: 'PRO',
        modelId: 'fake-a',
        total: 2,
        status: 'RUNNING',
        claimedBy: 'gone',
        heartbeatAt: new Date(),
      },
    });
    const [open, settled] = await Promise.all(
      ['open', 'settled'].map((customId, position) =>
        prisma.batchRequest.create({ data: { jobId: job.id, position, customId, content: `${customId} question`, status: 'RUNNING', attempt: 1 } }),
      ),
    );
    await credits.reserve(prisma, user.id, 5_000, open!.id);
    await credits.reserve(prisma, user.id, 5_000, settled!.id);
    await credits.settle(user.id, 5_000, 3_000, settled!.id);
    expect(await balanceOf(user.id)).toBe(1_000_000 - 5_000 - 3_000);
    await prisma.batchJob.update({ where: { id: job.id }, data: { heartbeatAt: new Date(Date.now() - 3_600_000) } });

    await eventually(async () => (await prisma.batchJob.findUniqueOrThrow({ where: { id: job.id } })).status === 'COMPLETED', 20_000);
    const rows = await prisma.batchRequest.findMany({ where: { jobId: job.id }, orderBy: { position: 'asc' } });
    expect(rows.map((row) => [row.status, row.attempt])).toEqual([
      ['SUCCEEDED', 2],
      ['SUCCEEDED', 2],
    ]);

    let charged = 3_000;
    for (const row of rows) {
      const firstAttempt = await prisma.creditLedgerEntry.findMany({ where: { reference: row.id }, orderBy: { kind: 'asc' } });
      expect(firstAttempt.map((entry) => [entry.kind, entry.delta])).toEqual(
        row.id === open!.id
          ? [
              ['refund', 5_000],
              ['reserve', -5_000],
            ]
          : [
              ['refund', 2_000],
              ['reserve', -5_000],
            ],
      );
      const secondAttempt = await prisma.creditLedgerEntry.findMany({ where: { reference: `${row.id}:2` }, orderBy: { kind: 'asc' } });
      expect(secondAttempt.map((entry) => entry.kind)).toEqual(['refund', 'reserve']);
      const charge = -(secondAttempt[0]!.delta + secondAttempt[1]!.delta);
      expect(charge).toBe(credits.creditsFor(row.cost!));
      charged += charge;
    }
    expect(await balanceOf(user.id)).toBe(1_000_000 - charged);
  });

  test('a late answer of an attempt another instance took over leaves the newer attempt as it is', async () => {
    const prisma = gateway.app.services.db.prisma;
    const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    gateway.upstream.behave({ tokens: 4, firstTokenDelayMs: 1_500 });
    const id = (await user.execute(SUBMIT, { input: { model: 'fake-a', requests: requests(1, 'late') } })).data.submitBatch.id;
    const running = await eventually(() => prisma.batchRequest.findFirst({ where: { job: { ownerId: user.id }, status: 'RUNNING' } }));
    // Meanwhile another instance took the request over and answered it as the next attempt.
    await prisma.batchRequest.update({
      where: { id: running.id },
      data: { attempt: running.attempt + 1, status: 'SUCCEEDED', response: 'the newer answer', completedAt: new Date() },
    });
    await prisma.batchJob.update({ where: { id: running.jobId }, data: { completed: 1 } });

    const job = await finished(user, id);
    expect(await prisma.batchRequest.findUniqueOrThrow({ where: { id: running.id } })).toMatchObject({
      attempt: running.attempt + 1,
      status: 'SUCCEEDED',
      response: 'the newer answer',
    });
    expect(job).toMatchObject({ status: 'COMPLETED', completed: 1, failed: 0 });
  });

  test('two workers on one database: each job is claimed once and every request answered exactly once', async () => {
    const services = gateway.app.services;
    // A second worker with its own identity, as another instance would run.
    const rival = createBatchService({
      prisma: services.db.prisma,
      config: services.config,
      catalog: services.catalog,
      registry: services.registry,
      credits: services.credits,
      limits: services.limits,
      usage: services.usage,
      logger: services.logger,
      instanceId: 'rival-worker',
    });
    rival.start();
    try {
      const user = await gateway.user({ tier: 'PRO', credits: 5_000_000 });
      gateway.upstream.behave({ tokens: 4, delayMs: 5 });
      const ids: string[] = [];
      for (let index = 0; index < 4; index += 1) {
        ids.push((await user.execute(SUBMIT, { input: { model: 'fake-a', requests: requests(6, `job${index}`) } })).data.submitBatch.id);
      }
      const jobs = await Promise.all(ids.map((id) => finished(user, id)));
      expect(jobs.every((job) => job.status === 'COMPLETED' && job.completed === 6)).toBe(true);
      const asked = gateway.upstream.requests
        .filter((request) => request.path.endsWith('/chat/completions'))
        .map((request) => request.body.messages.at(-1).content);
      expect(asked).toHaveLength(24);
      expect(new Set(asked).size).toBe(24);
      const rows = await services.db.prisma.batchJob.findMany({ where: { id: { in: await Promise.all(ids.map(rawId)) } }, select: { claimedBy: true } });
      expect(rows.every((row) => row.claimedBy !== null)).toBe(true);
      // Both workers took part.
      expect(new Set(rows.map((row) => row.claimedBy)).size).toBe(2);
    } finally {
      await rival.stop();
    }
  });
});

async function rawId(globalId: string) {
  return Buffer.from(globalId, 'base64url').toString('utf8').split(':')[1]!;
}
