import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { UserFacingError } from '../../lib/errors.js';
import { type Extracted, type ExtractionJob, extractAndCount, type JobReply } from './extraction-job.js';

/** Plain text and HTML smaller than this are read in place; a thread costs more than they do. */
export const OFF_THREAD_MIN_BYTES = 256 * 1024;

/** Threads at work at once: more uploads than cores wait their turn rather than multiply the memory they hold. */
const MAX_THREADS = Math.max(1, availableParallelism() - 1);
/** Heap a thread may grow to; a document that needs more fails alone instead of taking the process with it. */
const THREAD_HEAP_MB = 1024;

let running = 0;
const waiting: Array<() => void> = [];

async function withThreadSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_THREADS) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

/**
 * Extracts and counts a file's text. Documents (PDF, DOCX) and large texts go
 * to a worker thread of their own, so parsing and tokenizing them cannot hold
 * up the event loop that streams other users' replies; the thread ends with
 * the job, taking its memory with it.
 */
export async function extractOffThread(job: ExtractionJob): Promise<Extracted> {
  const heavy = job.kind === 'pdf' || job.kind === 'docx' || ((job.kind === 'text' || job.kind === 'html') && job.bytes.byteLength >= OFF_THREAD_MIN_BYTES);
  if (!heavy) return extractAndCount(job);
  const reply = await withThreadSlot(() => runOnThread(job));
  if ('ok' in reply) return reply.ok;
  if ('refused' in reply) {
    const { code, messageKey, params, extensions } = reply.refused;
    throw new UserFacingError(code, messageKey, params, extensions);
  }
  throw new Error(`text extraction failed: ${reply.failed}`);
}

function runOnThread(job: ExtractionJob): Promise<JobReply> {
  return new Promise<JobReply>((resolve, reject) => {
    const worker = new Worker(new URL('./extraction-worker.mjs', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB } });
    worker.once('message', (message: JobReply) => {
      resolve(message);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`extraction thread exited with code ${code}`)));
    worker.postMessage(job);
  });
}
