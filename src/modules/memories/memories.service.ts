import type { PrismaClient } from '../../generated/prisma/client.js';
import { badInput, notFound } from '../../lib/errors.js';
import type { CreditsService } from '../credits/credits.service.js';
import type { Actor } from '../identity/actor.js';
import { cosineSimilarity, type EmbeddingsService } from '../search/embeddings.service.js';
import type { UsageService } from '../usage/usage.service.js';

const MAX_MEMORY_LENGTH = 2_000;
/** How many memories join a turn's context, and how many recent ones are considered. */
const RELEVANT_MEMORIES = 3;
const CANDIDATE_MEMORIES = 500;

const words = (text: string) => new Set(text.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? []);

export function createMemoriesService(deps: {
  prisma: PrismaClient;
  credits: CreditsService;
  usage: UsageService;
  embeddings: EmbeddingsService;
  /** Credits one stored memory costs, like the v2 backend's memory endpoint. */
  memoryCreditCost: number;
}) {
  const { prisma } = deps;

  return {
    async create(actor: Actor, content: string) {
      const text = content.trim();
      if (text.length < 1 || text.length > MAX_MEMORY_LENGTH) throw badInput('memory.length', { max: MAX_MEMORY_LENGTH });
      const [embedding] = (await deps.embeddings.embed(actor, [text])) ?? [[]];
      const memory = await prisma.$transaction(async (transaction) => {
        const created = await transaction.memory.create({ data: { userId: actor.userId, content: text, embedding: embedding ?? [] } });
        await deps.credits.reserve(transaction, actor.billedUserId, deps.memoryCreditCost, created.id, 'charge');
        return created;
      });
      deps.credits.announce(actor.billedUserId);
      await deps.usage.record({
        actor,
        modelId: deps.embeddings.modelId ?? 'memory',
        action: 'MEMORY',
        cost: deps.memoryCreditCost / 1_000_000,
        success: true,
      });
      return memory;
    },

    async delete(actor: Actor, id: string): Promise<boolean> {
      const { count } = await prisma.memory.deleteMany({ where: { id, userId: actor.userId } });
      if (count === 0) throw notFound('Memory', id);
      return true;
    },

    /** The memories that best fit a message: by meaning when embeddings exist, else by shared words, else the newest. */
    async relevantTo(actor: Actor, text: string): Promise<string[]> {
      // Raw SQL: every send asks, and most users have no memories; Prisma would compile the query each time.
      const memories = await prisma.$queryRaw<Array<{ content: string; embedding: number[] }>>`
        SELECT content, embedding FROM "Memory" WHERE "userId" = ${actor.userId} ORDER BY "createdAt" DESC LIMIT ${CANDIDATE_MEMORIES}`;
      if (memories.length <= RELEVANT_MEMORIES) return memories.map((memory) => memory.content);
      const withVectors = memories.filter((memory) => memory.embedding.length > 0);
      let scored: Array<{ content: string; score: number }>;
      if (deps.embeddings.available && withVectors.length > 0) {
        const [query] = (await deps.embeddings.embed(actor, [text])) ?? [];
        scored = withVectors.map((memory) => ({ content: memory.content, score: query ? cosineSimilarity(query, memory.embedding) : 0 }));
      } else {
        const asked = words(text);
        scored = memories.map((memory) => ({ content: memory.content, score: [...words(memory.content)].filter((word) => asked.has(word)).length }));
      }
      // A stable sort keeps the newest first among equals.
      return scored
        .sort((a, b) => b.score - a.score)
        .slice(0, RELEVANT_MEMORIES)
        .map((memory) => memory.content);
    },
  };
}

export type MemoriesService = ReturnType<typeof createMemoriesService>;
