import type { PrismaClient } from '../../generated/prisma/client.js';
import { type EndableIterator, followSubscription, type GatewayPubSub, type Topics, type TopicSubscription } from '../../lib/pubsub.js';
import type { LimitsService } from '../limits/limits.service.js';
import type { Viewer } from './actor.js';

/**
 * Live account state: whatever changes a user's credits or limits announces
 * only that it changed (a tiny event keyed by the billed user's id); the Viewer
 * is read again where someone follows it. With nobody following, an
 * announcement reaches no listener and nothing is read.
 */
export function createViewerUpdates(deps: { prisma: PrismaClient; pubsub: GatewayPubSub; limits: LimitsService }) {
  const announce = (userId: string) => deps.pubsub.publish('viewer', userId, { userId });

  /** The viewer with its user row (tier, free messages used) as stored now. */
  async function fresh(viewer: Viewer): Promise<Viewer> {
    const user = await deps.prisma.user.findUnique({ where: { id: viewer.user.id } });
    return user ? { ...viewer, user, tier: user.tier } : viewer;
  }

  /** When the current minute window ends, if requests count in it: the allowance grows back then without anyone acting. */
  async function nextWindowInMs(viewer: Viewer): Promise<number | undefined> {
    const subject = { userId: viewer.user.id, tier: viewer.tier, isGuest: viewer.isGuest, freeMessagesUsed: viewer.user.freeMessagesUsed };
    return deps.limits.minuteWindowEndsInMs(subject);
  }

  async function* run(viewer: Viewer, changes: TopicSubscription<Topics['viewer']>): AsyncGenerator<Viewer> {
    let pendingChange = changes.next();
    let current = await fresh(viewer);
    for (;;) {
      yield current;
      const windowEnds = await nextWindowInMs(current);
      let timer: NodeJS.Timeout | undefined;
      const windowOver = windowEnds === undefined ? undefined : new Promise<'window'>((resolve) => (timer = setTimeout(resolve, windowEnds + 50, 'window')));
      const woke = await Promise.race(windowOver ? [pendingChange, windowOver] : [pendingChange]);
      clearTimeout(timer);
      if (woke !== 'window') {
        if (woke.done) return;
        pendingChange = changes.next();
      }
      current = await fresh(current);
    }
  }

  /**
   * The viewer now, then again after every announced change and at the start of each new rate-limit window.
   * Ending it closes the topic subscription first: that ends the wait a generator alone could not leave until the next change.
   */
  function follow(viewer: Viewer): EndableIterator<Viewer> {
    return followSubscription(
      () => deps.pubsub.subscribe('viewer', viewer.user.id),
      (changes) => run(viewer, changes),
    );
  }

  return { announce, follow };
}

export type ViewerUpdates = ReturnType<typeof createViewerUpdates>;
