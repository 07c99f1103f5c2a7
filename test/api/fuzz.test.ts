import fc from 'fast-check';
import type { GraphQLField } from 'graphql';
import { afterAll, beforeAll, expect, onTestFinished, test } from 'vitest';
import { schema } from '../../src/graphql/schema.js';
import { argumentsArbitrary, type KnownIds } from '../support/fuzz-arguments.js';
import { documentOf, type FuzzResponse, fuzzSocket, overHttp } from '../support/fuzz-operations.js';
import { seededUser, snapshotOf, type SeededUser } from '../support/fuzz-users.js';
import { startGateway, type Gateway } from '../support/harness.js';

/*
 * Every query and mutation of the schema, called with generated hostile arguments over HTTP
 * and over one long-lived graphql-ws socket, by a user who also holds another user's real ids.
 * Each answer must be data or errors that all carry a code other than INTERNAL_SERVER_ERROR;
 * the socket must stay open, the server healthy, and the other user's rows unread and unchanged.
 *
 * Replay a failure with the seed it prints: FUZZ_SEED=<seed> (and FUZZ_FIELD=Mutation.<name> for
 * one field). FUZZ_RUNS sets the cases per field, FUZZ_BUDGET_MS the time for the whole run.
 */
const runs = Number(process.env.FUZZ_RUNS ?? 8);
const budgetMs = Number(process.env.FUZZ_BUDGET_MS ?? 70_000);
const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const onlyField = process.env.FUZZ_FIELD;

let gateway: Gateway;
let attacker: SeededUser;
let victim: SeededUser;
beforeAll(async () => {
  gateway = await startGateway({ batchPollMs: 50 });
  attacker = await seededUser(gateway, 'attacker');
  victim = await seededUser(gateway, 'victim');
}, 60_000);
afterAll(() => gateway?.close());

const rawIdOf = (globalId: string) => Buffer.from(globalId, 'base64url').toString('utf8').split(':').slice(1).join(':');
const shorten = (text: string) => (text.length > 600 ? `${text.slice(0, 600)}… (${text.length} characters)` : text);

/** What is wrong with one answer, if anything. */
function problemsOf(transport: string, response: FuzzResponse, victimIds: string[]): string[] {
  const problems: string[] = [];
  if (response.data === undefined && !response.errors?.length) problems.push(`${transport}: neither data nor errors`);
  for (const error of response.errors ?? []) {
    const code = error.extensions?.code;
    if (typeof code !== 'string' || code === 'INTERNAL_SERVER_ERROR') problems.push(`${transport}: ${String(code)}: ${error.message?.slice(0, 300)}`);
  }
  const data = JSON.stringify(response.data ?? null);
  for (const id of victimIds) if (data.includes(id)) problems.push(`${transport}: returned the other user's ${id}`);
  return problems;
}

interface Run {
  socket: ReturnType<typeof fuzzSocket>;
  known: KnownIds;
  victimIds: string[];
  maxMessageBytes: number;
  deadline: number;
  cases: number;
  httpOnly: number;
  /** Fields whose share of the time ran out before their cases did. */
  cutShort: string[];
  outcomes: Map<string, number>;
}

/** Runs one field's cases; the failure, with what replays it, or undefined. */
async function fuzzField(
  run: Run,
  kind: 'query' | 'mutation',
  field: GraphQLField<unknown, unknown>,
  fieldSeed: number,
  fieldsLeft: number,
): Promise<string | undefined> {
  const document = documentOf(schema, kind, field);
  const property = fc.asyncProperty(argumentsArbitrary(field.args, run.known), async (variables) => {
    run.cases += 1;
    const answer = await overHttp(gateway.url, attacker.caller.headers, document, variables);
    const outcome = answer.errors?.length ? String(answer.errors[0]!.extensions?.code) : 'data';
    run.outcomes.set(outcome, (run.outcomes.get(outcome) ?? 0) + 1);
    const problems = problemsOf('HTTP', answer, run.victimIds);
    // A message over WS_MAX_MESSAGE_BYTES closes the socket with 1009 by design (README): those go over HTTP only.
    if (Buffer.byteLength(JSON.stringify({ query: document, variables })) < run.maxMessageBytes) {
      problems.push(...problemsOf('graphql-ws', await run.socket.run(document, variables), run.victimIds));
    } else run.httpOnly += 1;
    if (run.socket.state.closed) problems.push(`graphql-ws: socket closed (${run.socket.state.closed})`);
    if (problems.length > 0) throw new Error(problems.join('\n'));
  });
  const result = await fc.check(property, {
    seed: fieldSeed,
    numRuns: runs,
    endOnFailure: true,
    // An equal share of the time left, so a slow field cannot starve the ones after it.
    interruptAfterTimeLimit: Math.max(1_000, Math.floor((run.deadline - Date.now()) / fieldsLeft)),
  });
  const name = `${kind === 'query' ? 'Query' : 'Mutation'}.${field.name}`;
  if (result.interrupted) run.cutShort.push(`${name} (${result.numRuns})`);
  // Interrupted before its first case: nothing ran, so nothing failed.
  if (!result.failed || (result.interrupted && result.counterexample === null)) return undefined;
  const message = (result.errorInstance as Error | undefined)?.message;
  return `${name} (FUZZ_SEED=${seed} FUZZ_FIELD=${name}):\n${message}\narguments: ${shorten(JSON.stringify(result.counterexample?.[0]) ?? '(none: the failure was not in a case)')}`;
}

const fieldsOf = () => [
  ...Object.values(schema.getQueryType()!.getFields()).map((field) => ({ kind: 'query' as const, field })),
  ...Object.values(schema.getMutationType()!.getFields()).map((field) => ({ kind: 'mutation' as const, field })),
];

test(
  'every query and mutation answers hostile arguments with data or a coded error, and never reaches another user',
  async () => {
    console.log(`fuzz: seed ${seed}, ${runs} cases per field (replay with FUZZ_SEED=${seed} FUZZ_RUNS=${runs})`);
    const started = Date.now();
    const before = await snapshotOf(gateway, victim.caller.id);
    const socket = fuzzSocket(gateway.url, attacker.caller.headers);
    onTestFinished(() => socket.client.dispose());
    const run: Run = {
      socket,
      known: { own: attacker.ids, others: victim.ids },
      victimIds: [...victim.ids, ...victim.ids.map(rawIdOf).filter((id) => id.length >= 8)],
      // Room for the graphql-ws envelope around the operation.
      maxMessageBytes: gateway.app.services.config.webSocket.maxMessageBytes - 1_024,
      deadline: started + budgetMs,
      cases: 0,
      httpOnly: 0,
      cutShort: [],
      outcomes: new Map(),
    };
    const failures: string[] = [];
    // Each field's seed follows from the run's and the field's place, so FUZZ_FIELD replays the same cases.
    const fields = fieldsOf()
      .map((entry, index) => ({ ...entry, fieldSeed: seed + index }))
      .filter(({ kind, field }) => !onlyField || onlyField === `${kind === 'query' ? 'Query' : 'Mutation'}.${field.name}`);
    for (const [index, { kind, field, fieldSeed }] of fields.entries()) {
      const failure = await fuzzField(run, kind, field as GraphQLField<unknown, unknown>, fieldSeed, fields.length - index);
      if (failure) failures.push(failure);
    }

    const health = await overHttp(gateway.url, {}, '{ health { database } }', {});
    const healthOverSocket = await socket.run('{ health { database } }', {});
    const after = await snapshotOf(gateway, victim.caller.id);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const answers = [...run.outcomes].sort((a, b) => b[1] - a[1]).map(([outcome, count]) => `${outcome} ${count}`);
    console.log(
      `fuzz: ${run.cases} cases (${run.cases - run.httpOnly} over HTTP and graphql-ws, ${run.httpOnly} over HTTP only, too large for a socket message) in ${seconds} s, seed ${seed}; answers over HTTP: ${answers.join(', ')}`,
    );

    if (run.cutShort.length > 0) console.log(`fuzz: out of time, fewer cases for ${run.cutShort.join(', ')}`);
    expect(failures).toEqual([]);
    expect(socket.state.closed).toBeUndefined();
    expect(health).toEqual({ data: { health: { database: expect.any(String) } } });
    expect(healthOverSocket.data).toEqual(health.data);
    expect(after).toBe(before);
  },
  budgetMs + 60_000,
);
