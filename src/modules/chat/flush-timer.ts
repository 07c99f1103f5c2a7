/**
 * Calls `flush` on every `stride()`-th tick of `intervalMs`; the stride is read
 * at each tick, so it follows how many replies stream at the moment. Returns
 * the function that stops it.
 */
export function startFlushTimer(intervalMs: number, stride: () => number, flush: () => void): () => void {
  let ticks = 0;
  const timer = setInterval(() => {
    ticks += 1;
    if (ticks < stride()) return;
    ticks = 0;
    flush();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
