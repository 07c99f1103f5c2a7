import type { MessageEvent } from '../modules/chat/message-events.js';

/**
 * Topic-based publish/subscribe over an EventTarget: in-process by default, a
 * Redis-backed EventTarget when several instances share events.
 *
 * Subscribing registers the listener at once and buffers what arrives until it
 * is read, so a caller can subscribe, then read a log, then follow live events
 * without losing any published in between (Yoga's own pubsub subscribes lazily,
 * on the first read).
 */
export interface Topics {
  message: MessageEvent;
  conversation: MessageEvent;
  /** Something changed a user's credits or limits; followers read the Viewer again. */
  viewer: { userId: string };
  /** Asks whichever instance runs a reply to stop it. */
  stop: { messageId: string };
}

export interface TopicSubscription<T> extends AsyncIterableIterator<T> {
  return(): Promise<IteratorResult<T>>;
  /** The next event, or undefined when none arrives within `ms`. */
  nextWithin(ms: number): Promise<IteratorResult<T> | undefined>;
  /** Takes every event already waiting to be read (none when the reader keeps up). */
  drain(): T[];
}

export type GatewayPubSub = ReturnType<typeof createGatewayPubSub>;

export function createGatewayPubSub(target: EventTarget = new EventTarget()) {
  const eventName = (topic: keyof Topics, id: string) => `${topic}:${id}`;

  return {
    publish<K extends keyof Topics>(topic: K, id: string, payload: Topics[K]) {
      target.dispatchEvent(new CustomEvent(eventName(topic, id), { detail: payload }));
    },

    subscribe<K extends keyof Topics>(topic: K, id: string): TopicSubscription<Topics[K]> {
      const name = eventName(topic, id);
      const buffered: Topics[K][] = [];
      let waiting: ((result: IteratorResult<Topics[K]> | undefined) => void) | undefined;
      let closed = false;
      // One timer per subscription, re-armed for each wait: a follower waits once per token.
      let waitTimer: NodeJS.Timeout | undefined;
      let waitingWithin = false;
      const giveUpWaiting = () => {
        if (!waitingWithin) return;
        const resolve = waiting;
        waiting = undefined;
        resolve?.(undefined);
      };
      const listener = (event: Event) => {
        const payload = (event as CustomEvent<Topics[K]>).detail;
        if (waiting) {
          const resolve = waiting;
          waiting = undefined;
          resolve({ value: payload, done: false });
        } else buffered.push(payload);
      };
      target.addEventListener(name, listener);

      const finish = async (): Promise<IteratorResult<Topics[K]>> => {
        if (!closed) {
          closed = true;
          clearTimeout(waitTimer);
          target.removeEventListener(name, listener);
          buffered.length = 0;
          waiting?.({ value: undefined, done: true });
          waiting = undefined;
        }
        return { value: undefined, done: true };
      };

      return {
        next() {
          if (buffered.length > 0) return Promise.resolve({ value: buffered.shift()!, done: false });
          if (closed) return Promise.resolve({ value: undefined, done: true });
          waitingWithin = false;
          return new Promise((resolve) => (waiting = resolve as typeof waiting));
        },
        nextWithin(ms) {
          if (buffered.length > 0 || closed) return this.next();
          if (waitTimer) waitTimer.refresh();
          else waitTimer = setTimeout(giveUpWaiting, ms);
          waitingWithin = true;
          return new Promise((resolve) => (waiting = resolve));
        },
        drain: () => buffered.splice(0),
        return: finish,
        throw: async (error) => {
          await finish();
          throw error;
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },
  };
}

/** An iterator whose return() ends it at once. */
export interface EndableIterator<T> extends AsyncIterableIterator<T> {
  return(value?: unknown): Promise<IteratorResult<T>>;
}

/**
 * Runs `consume` over a topic subscription made on the first read, as a
 * generator would (one ended before it starts holds nothing). A generator's
 * own return() waits until it next yields, which may be long while nothing is
 * published: ending the subscription first wakes it, so the iterator ends at once.
 */
export function followSubscription<T, R>(
  subscribe: () => TopicSubscription<T>,
  consume: (subscription: TopicSubscription<T>) => AsyncGenerator<R>,
): EndableIterator<R> {
  let subscription: TopicSubscription<T> | undefined;
  let generator: AsyncGenerator<R> | undefined;
  let ended = false;
  const started = () => (generator ??= consume((subscription = subscribe())));
  const finished = (): IteratorResult<R> => ({ done: true, value: undefined });
  return {
    next: async () => (ended && !generator ? finished() : started().next()),
    async return() {
      ended = true;
      await subscription?.return();
      return generator ? generator.return(undefined) : finished();
    },
    async throw(error?: unknown) {
      ended = true;
      await subscription?.return();
      if (!generator) throw error;
      return generator.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
