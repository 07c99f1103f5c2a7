/**
 * A background worker that claims one item at a time and runs it, sleeping
 * `pollMs` when nothing is waiting; `wake` cuts the sleep short (new work
 * arrived on this instance), `stop` lets the item in hand finish.
 */
export interface WorkLoop {
  start(): void;
  stop(): Promise<void>;
  wake(): void;
  readonly stopping: boolean;
}

export function createWorkLoop<T>(options: {
  claimNext: () => Promise<T | null>;
  run: (item: T) => Promise<void>;
  pollMs: number;
  onError: (error: unknown, item: T | null) => void;
}): WorkLoop {
  let wake: (() => void) | undefined;
  let stopping = false;
  let loop: Promise<void> | undefined;

  const sleep = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.pollMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      wake = undefined;
    });

  async function work() {
    while (!stopping) {
      let item: T | null = null;
      try {
        item = await options.claimNext();
        if (item) await options.run(item);
      } catch (error) {
        options.onError(error, item);
      }
      if (!item && !stopping) await sleep();
    }
  }

  return {
    start() {
      loop ??= work();
    },
    async stop() {
      stopping = true;
      wake?.();
      await loop;
    },
    wake: () => wake?.(),
    get stopping() {
      return stopping;
    },
  };
}
