import type { PrismaClient, UsageAction } from '../../generated/prisma/client.js';
import { v7 as uuidv7 } from 'uuid';
import type { Logger } from '../../lib/logger.js';
import { sqlNow } from '../../lib/sql.js';
import type { CatalogService } from '../catalog/catalog.service.js';
import type { Actor } from '../identity/actor.js';

export interface UsageRecord {
  actor: Pick<Actor, 'userId' | 'billedUserId' | 'apiKeyId'>;
  modelId: string;
  action: UsageAction;
  inputTokens?: number;
  outputTokens?: number;
  cost: number;
  success: boolean;
  latencyMs?: number | null;
  timeToFirstTokenMs?: number | null;
  messageId?: string;
}

export interface UsageQuery {
  /** Whose usage: one user, or everyone (null, operators only). */
  userId: string | null;
  start?: Date | null;
  end?: Date | null;
  recentLimit: number;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

export function createUsageService(prisma: PrismaClient, catalog: CatalogService, logger: Logger) {
  return {
    /** Usage is bookkeeping: a failure to record it is logged, never passed to the caller. */
    async record(record: UsageRecord): Promise<void> {
      // Raw SQL: one row per reply, and Prisma's per-call query compilation would cost more CPU than the insert.
      await prisma.$executeRaw`
        INSERT INTO "UsageEvent" (id, "userId", "billedUserId", "apiKeyId", "modelId", action, "inputTokens", "outputTokens", cost, success,
          "latencyMs", "timeToFirstTokenMs", "messageId", "createdAt")
        VALUES (${uuidv7()}, ${record.actor.userId}, ${record.actor.billedUserId}, ${record.actor.apiKeyId ?? null}, ${record.modelId},
          CAST(${record.action} AS "UsageAction"), ${record.inputTokens ?? 0}::int, ${record.outputTokens ?? 0}::int, ${record.cost}::float8, ${record.success},
          ${record.latencyMs ?? null}::int, ${record.timeToFirstTokenMs ?? null}::int, ${record.messageId ?? null}, ${sqlNow()})`.catch((error: unknown) =>
        logger.error({ err: error, record }, 'recording usage failed'),
      );
    },

    /** Totals, success rate, a per-model breakdown (share of requests) and recent activity. */
    async stats(query: UsageQuery) {
      // A user's usage is what they did and what was charged to them (a key owner sees delegated calls).
      const where = {
        ...(query.userId ? { OR: [{ userId: query.userId }, { billedUserId: query.userId }] } : {}),
        ...(query.start || query.end ? { createdAt: { ...(query.start ? { gte: query.start } : {}), ...(query.end ? { lt: query.end } : {}) } } : {}),
      };
      const [totals, successes, byModel, recent] = await Promise.all([
        prisma.usageEvent.aggregate({ where, _sum: { inputTokens: true, outputTokens: true, cost: true }, _count: { _all: true } }),
        prisma.usageEvent.count({ where: { ...where, success: true } }),
        prisma.usageEvent.groupBy({ by: ['modelId'], where, _sum: { inputTokens: true, outputTokens: true, cost: true }, _count: { _all: true } }),
        prisma.usageEvent.findMany({ where, orderBy: { createdAt: 'desc' }, take: query.recentLimit }),
      ]);
      const requests = totals._count._all;
      const inputTokens = totals._sum.inputTokens ?? 0;
      const outputTokens = totals._sum.outputTokens ?? 0;
      return {
        inputTokens,
        outputTokens,
        totalTokens: inputTokens + outputTokens,
        totalCost: round(totals._sum.cost ?? 0, 8),
        totalRequests: requests,
        successRate: requests === 0 ? 100 : round((successes / requests) * 100, 1),
        models: byModel
          .map((row) => ({
            model: row.modelId,
            vendor: catalog.find(row.modelId)?.vendor ?? 'unknown',
            requests: row._count._all,
            tokens: (row._sum.inputTokens ?? 0) + (row._sum.outputTokens ?? 0),
            cost: round(row._sum.cost ?? 0, 8),
            percentage: requests === 0 ? 0 : round((row._count._all / requests) * 100, 1),
          }))
          .sort((a, b) => b.requests - a.requests || a.model.localeCompare(b.model)),
        recentActivity: recent,
      };
    },
  };
}

export type UsageService = ReturnType<typeof createUsageService>;
