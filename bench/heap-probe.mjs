// Loaded into the gateway by the idle benchmark only (node --expose-gc --import):
// on SIGUSR2 it collects garbage and writes the process's memory figures to
// HEAP_PROBE_FILE, so memory per connection is measured without the garbage
// an RSS reading would also count.
import { writeFileSync } from 'node:fs';

process.on('SIGUSR2', () => {
  globalThis.gc();
  globalThis.gc();
  const { heapUsed, external, rss } = process.memoryUsage();
  writeFileSync(process.env.HEAP_PROBE_FILE, JSON.stringify({ heapUsed, external, rss }));
});
