import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Tier } from '../../generated/prisma/enums.js';
import type { Config } from '../../lib/config.js';
import { UserFacingError } from '../../lib/errors.js';

export interface LimitSubject {
  /** Who the requests count against: the billed user (a guest's own id for a device). */
  userId: string;
  tier: Tier;
  isGuest: boolean;
  freeMessagesUsed: number;
}

export interface LimitSnapshot {
  perMinute: number;
  perDay: number;
  usedThisMinute: number;
  usedToday: number;
  freeMessagesLeft: number | null;
}

const MINUTE = 60;
const DAY = 24 * 60 * 60;

/** Creates one counter (points per window); in-process now, a shared store when several instances run. */
export type LimiterFactory = (options: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract;

export const memoryLimiters: LimiterFactory = (options) => new RateLimiterMemory(options);

/** Chat request limits per minute and per day, by tier, with the guest device rule on top. */
export function createLimitsService(config: Config, createLimiter: LimiterFactory = memoryLimiters, onConsumed: (userId: string) => void = () => {}) {
  const limiters = new Map<string, RateLimiterAbstract>();

  function windowsFor(subject: LimitSubject) {
    const tierLimits = config.tiers[subject.tier];
    const perMinute = subject.isGuest ? config.guestPerMinute : tierLimits.perMinute;
    const limiter = (window: 'minute' | 'day', points: number, duration: number) => {
      const keyPrefix = `chat:${window}:${subject.isGuest ? 'guest' : subject.tier}:${points}`;
      let existing = limiters.get(keyPrefix);
      if (!existing) limiters.set(keyPrefix, (existing = createLimiter({ keyPrefix, points, duration })));
      return existing;
    };
    return { perMinute, perDay: tierLimits.perDay, minute: limiter('minute', perMinute, MINUTE), day: limiter('day', tierLimits.perDay, DAY) };
  }

  function freeMessagesLeft(subject: LimitSubject): number | null {
    if (subject.tier !== 'FREE' || config.freeMessageThreshold <= 0) return null;
    return Math.max(0, config.freeMessageThreshold - subject.freeMessagesUsed);
  }

  return {
    freeMessagesLeft,
    freeMessageThreshold: () => config.freeMessageThreshold,

    /** Counts one chat request; RATE_LIMITED (429, retryAfter) when a window is full. */
    async consumeChatRequest(subject: LimitSubject): Promise<void> {
      const windows = windowsFor(subject);
      for (const [window, limiter, limit] of [
        ['minute', windows.minute, windows.perMinute],
        ['day', windows.day, windows.perDay],
      ] as const) {
        try {
          await limiter.consume(subject.userId);
        } catch (rejection) {
          if (!(rejection instanceof RateLimiterRes)) throw rejection;
          const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
          throw new UserFacingError('RATE_LIMITED', `limits.${window}`, { limit, retryAfter }, { retryAfter, limit, window });
        }
      }
      onConsumed(subject.userId);
    },

    /** Milliseconds until the subject's current minute window ends; undefined when no request counts in one. */
    async minuteWindowEndsInMs(subject: LimitSubject): Promise<number | undefined> {
      const minute = await windowsFor(subject).minute.get(subject.userId);
      return minute && minute.consumedPoints > 0 ? minute.msBeforeNext : undefined;
    },

    async snapshot(subject: LimitSubject): Promise<LimitSnapshot> {
      const windows = windowsFor(subject);
      const [minute, day] = await Promise.all([windows.minute.get(subject.userId), windows.day.get(subject.userId)]);
      return {
        perMinute: windows.perMinute,
        perDay: windows.perDay,
        usedThisMinute: Math.min(minute?.consumedPoints ?? 0, windows.perMinute),
        usedToday: Math.min(day?.consumedPoints ?? 0, windows.perDay),
        freeMessagesLeft: freeMessagesLeft(subject),
      };
    },
  };
}

export type LimitsService = ReturnType<typeof createLimitsService>;
