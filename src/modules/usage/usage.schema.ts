import type { UsageEvent } from '../../generated/prisma/client.js';
import { requireActor } from '../../context.js';
import { builder } from '../../graphql/builder.js';
import { badInput, forbidden } from '../../lib/errors.js';
import { UserRef } from '../identity/identity.schema.js';
import type { UsageService } from './usage.service.js';

const UsageActionEnum = builder.enumType('UsageAction', {
  values: ['CHAT', 'EMBEDDING', 'TRANSCRIPTION', 'SPEECH', 'BATCH', 'EPHEMERAL_KEY', 'MEMORY', 'INDEXING'] as const,
});

type Stats = Awaited<ReturnType<UsageService['stats']>>;

const ModelUsageRef = builder.objectRef<Stats['models'][number]>('ModelUsage').implement({
  fields: (t) => ({
    model: t.exposeID('model'),
    vendor: t.exposeString('vendor'),
    requests: t.exposeInt('requests'),
    tokens: t.exposeInt('tokens'),
    cost: t.exposeFloat('cost', { description: 'USD.' }),
    percentage: t.exposeFloat('percentage', { description: 'Share of all requests, in percent.' }),
  }),
});

const UsageEventRef = builder.objectRef<UsageEvent>('UsageEvent').implement({
  fields: (t) => ({
    timestamp: t.expose('createdAt', { type: 'DateTime' }),
    model: t.exposeID('modelId'),
    action: t.expose('action', { type: UsageActionEnum }),
    inputTokens: t.exposeInt('inputTokens'),
    outputTokens: t.exposeInt('outputTokens'),
    cost: t.exposeFloat('cost'),
    success: t.exposeBoolean('success'),
    latencyMs: t.exposeInt('latencyMs', { nullable: true }),
    timeToFirstTokenMs: t.exposeInt('timeToFirstTokenMs', { nullable: true }),
  }),
});

const UsageStatsRef = builder.objectRef<Stats>('UsageStats').implement({
  fields: (t) => ({
    totalTokens: t.exposeInt('totalTokens'),
    inputTokens: t.exposeInt('inputTokens'),
    outputTokens: t.exposeInt('outputTokens'),
    totalCost: t.exposeFloat('totalCost', { description: 'USD, from the catalog prices.' }),
    totalRequests: t.exposeInt('totalRequests'),
    successRate: t.exposeFloat('successRate', { description: 'Percent.' }),
    models: t.field({ type: [ModelUsageRef], resolve: (stats) => stats.models }),
    recentActivity: t.field({ type: [UsageEventRef], resolve: (stats) => stats.recentActivity }),
  }),
});

builder.queryField('usage', (t) =>
  t.field({
    type: UsageStatsRef,
    description: "Your usage (calls you made and calls charged to you); operators may ask for anyone's, or everyone's without userId.",
    authScopes: { caller: true },
    args: { userId: t.arg.globalID({ for: [UserRef] }), start: t.arg({ type: 'DateTime' }), end: t.arg({ type: 'DateTime' }), recentLimit: t.arg.int() },
    resolve: (_root, args, context) => {
      const actor = requireActor(context);
      const isOperator = context.viewer?.user.isOperator === true && !context.viewer.apiKey;
      const asked = args.userId?.id ?? null;
      if (asked && asked !== actor.userId && asked !== actor.billedUserId && !isOperator) throw forbidden('usage.othersNeedOperator');
      const recentLimit = args.recentLimit ?? 10;
      if (recentLimit < 0 || recentLimit > 100) throw badInput('input.pageSize', { argument: 'recentLimit', max: 100 });
      return context.services.usage.stats({ userId: asked ?? (isOperator ? null : actor.userId), start: args.start, end: args.end, recentLimit });
    },
  }),
);
