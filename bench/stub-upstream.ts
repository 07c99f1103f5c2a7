// An OpenAI-compatible stub on loopback for benchmarks: 200 tokens, 5 ms apart
// (STUB_TOKENS, STUB_DELAY_MS), each token stamped with the time it was sent.
// Prints its URL on stdout and serves until killed.
import { startFakeUpstream } from '../test/support/fake-upstream.js';

const upstream = await startFakeUpstream();
upstream.behave({
  tokens: Number(process.env.STUB_TOKENS ?? 200),
  delayMs: Number(process.env.STUB_DELAY_MS ?? 5),
  firstTokenDelayMs: Number(process.env.STUB_FIRST_TOKEN_DELAY_MS ?? 0),
  stampDeltas: true,
});
// Keep no request log: a long benchmark would otherwise hold every body in memory.
setInterval(() => upstream.requests.splice(0), 1_000).unref();
process.stdout.write(`${upstream.url}\n`);
process.on('SIGTERM', () => void upstream.close().then(() => process.exit(0)));
