import { requireActor } from '../../context.js';
import { builder } from '../../graphql/builder.js';
import { encodeGlobalId, rawIdOf } from '../../graphql/global-id.js';
import { TierEnum } from '../catalog/catalog.schema.js';
import type { LimitSnapshot } from '../limits/limits.service.js';
import type { Viewer } from './actor.js';
import { featuresFor } from './tiers.js';

/** Users see themselves and the members of teams they belong to. */
const visibleUsers = (userId: string) => ({
  OR: [{ id: userId }, { memberships: { some: { team: { members: { some: { userId } } } } } }],
});

export const UserRef = builder.prismaNode('User', {
  id: { field: 'id' },
  findUnique: (id, context) => ({ id, AND: [visibleUsers(context.viewer?.user.id ?? '')] }),
  fields: (t) => ({
    email: t.exposeString('email', { nullable: true }),
    name: t.exposeString('name', { nullable: true }),
    tier: t.expose('tier', { type: TierEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const TeamRef = builder.prismaNode('Team', {
  id: { field: 'id' },
  findUnique: (id, context) => ({ id, members: { some: { userId: context.viewer?.user.id ?? '' } } }),
  fields: (t) => ({
    name: t.exposeString('name'),
    owner: t.relation('owner'),
    members: t.field({
      type: [UserRef],
      select: { members: { select: { user: true }, orderBy: { createdAt: 'asc' } } },
      resolve: (team) => team.members.map((member) => member.user),
    }),
  }),
});

builder.prismaObjectField(UserRef, 'teams', (t) =>
  t.field({
    type: [TeamRef],
    select: { memberships: { select: { team: true }, orderBy: { createdAt: 'asc' } } },
    resolve: (user) => user.memberships.map((membership) => membership.team),
  }),
);

const RateLimitsRef = builder.objectRef<LimitSnapshot>('RateLimits').implement({
  fields: (t) => ({
    perMinute: t.exposeInt('perMinute'),
    perDay: t.exposeInt('perDay'),
    usedThisMinute: t.exposeInt('usedThisMinute'),
    usedToday: t.exposeInt('usedToday'),
    freeMessagesLeft: t.exposeInt('freeMessagesLeft', {
      nullable: true,
      description: 'Messages left before sign-up (guests) or an upgrade (FREE users); null when no allowance applies.',
    }),
  }),
});

const ViewerRef = builder.objectRef<Viewer>('Viewer').implement({
  description: 'The caller as authenticated.',
  fields: (t) => ({
    user: t.field({ type: UserRef, nullable: true, resolve: (viewer) => viewer.user }),
    isGuest: t.exposeBoolean('isGuest'),
    tier: t.expose('tier', { type: TierEnum }),
    actingUser: t.field({
      type: UserRef,
      nullable: true,
      description: "Set when an API key with external usage acts for a member of the owner's teams.",
      resolve: (viewer) => viewer.actingUser ?? null,
    }),
    credits: t.int({
      description: 'Token credits left (1 credit = 1 micro-USD of provider cost); charged to the key owner when delegating.',
      resolve: (viewer, _args, context) => context.services.credits.balance(viewer.user.id),
    }),
    limits: t.field({
      type: RateLimitsRef,
      resolve: (viewer, _args, context) =>
        context.services.limits.snapshot({
          userId: viewer.user.id,
          tier: viewer.tier,
          isGuest: viewer.isGuest,
          freeMessagesUsed: viewer.user.freeMessagesUsed,
        }),
    }),
  }),
});

const FeatureRef = builder.objectRef<{ name: string; enabled: boolean }>('Feature').implement({
  fields: (t) => ({ name: t.exposeString('name'), enabled: t.exposeBoolean('enabled') }),
});

interface CreatedKey {
  id: string;
  name: string;
  secret: string;
  allowExternalUsage: boolean;
  scopes: string[];
  expiresAt: Date | null;
}

const CreatedApiKeyRef = builder.objectRef<CreatedKey>('CreatedApiKey').implement({
  fields: (t) => ({
    id: t.id({ resolve: (key) => encodeGlobalId('ApiKey', key.id) }),
    name: t.exposeString('name'),
    secret: t.exposeString('secret', { description: 'Shown once.' }),
    allowExternalUsage: t.exposeBoolean('allowExternalUsage'),
    scopes: t.exposeStringList('scopes'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
  }),
});

builder.subscriptionField('viewerUpdates', (t) =>
  t.field({
    type: ViewerRef,
    description: "The caller's credits and limits now, then again after every change (a spend, a refund, a grant, a new window).",
    authScopes: { caller: true },
    subscribe: (_root, _args, context) => context.services.viewerUpdates.follow(context.viewer!),
    resolve: (viewer: Viewer) => viewer,
  }),
);

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerRef,
    nullable: true,
    description: 'The caller as authenticated: user (or guest device), tier, limits, credits, delegation.',
    authScopes: { public: true },
    resolve: (_root, _args, context) => context.viewer,
  }),
  availableFeatures: t.field({
    type: [FeatureRef],
    description: "Features the caller's tier enables (voice_chat, semantic_search, multi_agent, ...).",
    authScopes: { public: true },
    resolve: (_root, _args, context) => featuresFor(context.viewer?.tier ?? 'FREE'),
  }),
}));

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedApiKeyRef,
    description: 'A key for programs: `Authorization: Bearer <secret>`. Scopes: read, write, chat (all by default).',
    // `writer` so a read-only key is refused here; the service refuses every key with a message of its own.
    authScopes: { $all: { member: true, writer: true } },
    args: {
      name: t.arg.string({ required: true }),
      allowExternalUsage: t.arg.boolean(),
      scopes: t.arg.stringList(),
      expiresAt: t.arg({ type: 'DateTime' }),
    },
    resolve: (_root, args, context) => {
      requireActor(context);
      return context.services.apiKeys.create(context.viewer!, args);
    },
  }),
  revokeApiKey: t.boolean({
    // Revoking changes state: a read-only or chat-only key may not revoke its owner's keys.
    authScopes: { $all: { member: true, writer: true } },
    // No ApiKey object in the schema for `for:` to name; the resolver checks the type.
    args: { id: t.arg.globalID({ required: true }) },
    resolve: (_root, args, context) => context.services.apiKeys.revoke(context.viewer!, rawIdOf(args.id, 'ApiKey')),
  }),
}));
