import { requireActor } from '../../context.js';
import { builder } from '../../graphql/builder.js';
import { ConversationRef } from '../conversations/conversations.schema.js';
import { hasFeature } from '../identity/tiers.js';
import type { MessageMatch } from './search.service.js';

const ConversationHitRef = builder.objectRef<MessageMatch>('ConversationHit').implement({
  fields: (t) => ({
    conversation: t.prismaField({
      type: 'Conversation',
      resolve: (query, hit, _args, context) => context.services.db.prisma.conversation.findUniqueOrThrow({ ...query, where: { id: hit.conversationId } }),
    }),
    score: t.exposeFloat('score'),
    snippet: t.exposeString('snippet', { description: 'The best-matching passage (full-text matches marked with **).' }),
  }),
});

const MessageHitRef = builder.objectRef<MessageMatch>('MessageHit').implement({
  fields: (t) => ({
    message: t.prismaField({
      type: 'Message',
      resolve: (query, hit, _args, context) => context.services.db.prisma.message.findUniqueOrThrow({ ...query, where: { id: hit.messageId } }),
    }),
    score: t.exposeFloat('score'),
    snippet: t.exposeString('snippet'),
  }),
});

/** Ranking by meaning is a tier feature (semantic_search) and needs an embedding model; everyone else gets full-text search. */
const semanticFor = (tier: Parameters<typeof hasFeature>[0]) => hasFeature(tier, 'semantic_search');

builder.queryFields((t) => ({
  searchConversations: t.field({
    type: [ConversationHitRef],
    description: "Search over the caller's conversations: by meaning with semantic_search and an embedding model, else full text.",
    authScopes: { caller: true },
    args: { query: t.arg.string({ required: true }), first: t.arg.int() },
    resolve: (_root, args, context) => {
      const actor = requireActor(context);
      return context.services.search.searchConversations(actor, args.query, { first: args.first, semantic: semanticFor(actor.tier) });
    },
  }),
  searchMessages: t.field({
    type: [MessageHitRef],
    description: "Search over the caller's messages, optionally in one conversation.",
    authScopes: { caller: true },
    args: { query: t.arg.string({ required: true }), conversationId: t.arg.globalID({ for: [ConversationRef] }), first: t.arg.int() },
    resolve: (_root, args, context) => {
      const actor = requireActor(context);
      return context.services.search.searchMessages(actor, args.query, {
        conversationId: args.conversationId?.id ?? null,
        first: args.first,
        semantic: semanticFor(actor.tier),
      });
    },
  }),
}));
