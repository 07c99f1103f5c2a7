import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import type { GatewayContext } from '../context.js';
import type { Tier } from '../generated/prisma/enums.js';
import { forbidden, unauthenticated } from '../lib/errors.js';
import { viewerMay } from '../modules/identity/actor.js';
import { hasFeature, tierAtLeast, type FeatureName } from '../modules/identity/tiers.js';
import type PrismaTypes from '../generated/pothos-types.js';
import { getDatamodel } from '../generated/pothos-types.js';
import { decodeGlobalId, encodeGlobalId } from './global-id.js';
import GlobalIdCheckPlugin from './global-id-check.js';

export interface AuthScopes {
  /** Anyone, signed in or not. */
  public: boolean;
  /** A known caller (guest device, user, or API key with the `read` scope) reading its data. */
  caller: boolean;
  /** A caller changing its data (API keys need `write`). */
  writer: boolean;
  /** A caller starting model calls (API keys need `chat`). */
  chatter: boolean;
  /** A signed-in person, not a guest device. */
  member: boolean;
  tierAtLeast: Tier;
  feature: FeatureName;
  /** Operators may read across users. */
  operator: boolean;
}

/** Prisma nodes are loaded with findUniqueOrThrow; a row filtered out by ownership is "not found". */
async function nullWhenHidden(node: unknown): Promise<unknown> {
  try {
    return (await node) ?? null;
  } catch (error) {
    if ((error as { code?: string }).code === 'P2025') return null;
    throw error;
  }
}

export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  PrismaTypes: PrismaTypes;
  AuthScopes: AuthScopes;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: { list: false; items: false };
  DefaultNodeNullability: false;
  Scalars: {
    ID: { Input: string; Output: string | number | bigint };
    DateTime: { Input: Date; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
    File: { Input: File; Output: never };
  };
}>({
  defaultFieldNullability: false,
  // globalIdCheck after scopeAuth: its bad-id errors are thrown inside the auth checks.
  plugins: [ScopeAuthPlugin, GlobalIdCheckPlugin, PrismaPlugin, RelayPlugin, DataloaderPlugin],
  scopeAuth: {
    // Check subscriptions when they start, not only when each event resolves.
    authorizeOnSubscribe: true,
    authScopes: (context) => ({
      public: true,
      caller: viewerMay(context.viewer, 'read'),
      writer: viewerMay(context.viewer, 'write'),
      chatter: viewerMay(context.viewer, 'chat'),
      member: context.viewer !== null && !context.viewer.isGuest,
      tierAtLeast: (tier) => context.viewer !== null && tierAtLeast(context.viewer.tier, tier),
      feature: (feature) => context.viewer !== null && hasFeature(context.viewer.tier, feature),
      operator: context.viewer?.user.isOperator === true && !context.viewer.apiKey,
    }),
    // The viewer is missing only when no credential was sent; say so rather than "forbidden".
    unauthorizedError: (_parent, context) => (context.viewer ? forbidden('auth.forbidden') : unauthenticated()),
  },
  prisma: {
    client: (context) => context.services.db.prisma,
    dmmf: getDatamodel(),
    filterConnectionTotalCount: true,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
  },
  relay: {
    cursorType: 'String',
    edgeCursorType: 'String',
    pageInfoCursorType: 'String',
    clientMutationId: 'omit',
    encodeGlobalID: encodeGlobalId,
    decodeGlobalID: decodeGlobalId,
    edgesFieldOptions: { nullable: { list: false, items: false } },
    nodeFieldOptions: { nullable: false },
    // node(id) answers null for ids the caller may not see, exactly as for ids that do not exist.
    nodeQueryOptions: { resolve: (_root, { id }, _context, _info, resolveNode) => nullWhenHidden(resolveNode(id)) },
    nodesQueryOptions: {
      resolve: (_root, { ids }, _context, _info, resolveNodes) => ids.map((id) => nullWhenHidden(resolveNodes([id]).then(([node]) => node))),
    },
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
