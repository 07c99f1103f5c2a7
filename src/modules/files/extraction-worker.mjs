// Runs extraction jobs on a worker thread. Plain JavaScript, so the thread can
// start under any loader; it loads the TypeScript job through tsx.
import { parentPort } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

const { runJob } = await tsImport('./extraction-job.ts', import.meta.url);

parentPort.on('message', async (job) => parentPort.postMessage(await runJob(job)));
