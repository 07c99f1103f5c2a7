import { randomBytes } from 'node:crypto';
import { connected, cpuSeconds, graphql, now, percentiles, round, wsClient } from './support.js';

const MESSAGE_STREAM = `subscription ($id: ID!) { messageStream(messageId: $id) { __typename seq ... on TokenDelta { delta } } }`;

/** One reply followed by many `messageStream` subscribers: each token's lag behind the stub, CPU per delivered message. */
export async function fanOut(gateway: { url: string; pid: number }, subscribers: number, model?: string) {
  const device = `fanout-${subscribers}-${randomBytes(3).toString('hex')}`;
  const clients = Array.from({ length: subscribers }, () => wsClient(gateway.url, device));
  await connected(clients);
  // The reply waits for its subscribers: the stub's first token comes after a pause.
  const sent = await graphql(gateway.url, device, `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { replies { id } } }`, {
    input: { content: 'fan me out', ...(model ? { models: [model] } : {}) },
  });
  const messageId = sent.sendMessage.replies[0].id;
  const lags: number[] = [];
  let firstStamp = Infinity;
  let lastDone = 0;
  let delivered = 0;
  const cpuBefore = cpuSeconds(gateway.pid);
  const clientCpuBefore = process.cpuUsage();
  let setupCpu: number | undefined;
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve, reject) => {
          client.subscribe(
            { query: MESSAGE_STREAM, variables: { id: messageId } },
            {
              next: (value) => {
                const received = now();
                delivered += 1;
                const event = (value.data as any)?.messageStream;
                if (event?.__typename !== 'TokenDelta') return;
                setupCpu ??= cpuSeconds(gateway.pid) - cpuBefore;
                // A delta may carry several stamped tokens when the socket was behind.
                for (const stamp of event.delta.trim().split(' ').map(Number.parseFloat)) {
                  firstStamp = Math.min(firstStamp, stamp);
                  lags.push(received - stamp);
                }
              },
              error: reject,
              complete: () => {
                lastDone = Math.max(lastDone, now());
                resolve();
              },
            },
          );
        }),
    ),
  );
  const cpu = cpuSeconds(gateway.pid) - cpuBefore;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  await Promise.all(clients.map((client) => client.dispose()));
  return {
    lags,
    lagMs: percentiles(lags),
    finishMsAfterFirstToken: round(lastDone - firstStamp),
    setupCpuPerSubscriberMs: round(((setupCpu ?? 0) / subscribers) * 1000, 2),
    // Setup (resolving the caller, checking ownership) is left out of the relay figure.
    gatewayCpuPerDeliveredMessageUs: round(((cpu - (setupCpu ?? 0)) / delivered) * 1e6, 1),
    // The load client shares a core with the stub: when it is busy, the lag it measures is partly its own.
    loadClientCpuPerDeliveredMessageUs: round((clientCpu.user + clientCpu.system) / delivered, 1),
  };
}
