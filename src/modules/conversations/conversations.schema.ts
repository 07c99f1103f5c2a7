import { requireActor } from '../../context.js';
import { builder } from '../../graphql/builder.js';
import { PrivacyEnum } from '../catalog/catalog.schema.js';

export const HistoryPeriodEnum = builder.enumType('HistoryPeriod', {
  values: ['TODAY', 'LAST_7_DAYS', 'LAST_30_DAYS', 'LAST_MONTH', 'ALL'] as const,
});

export const ConversationRef = builder.prismaNode('Conversation', {
  id: { field: 'id' },
  // node(id) only finds the caller's own conversations.
  findUnique: (id, context) => ({ id, ownerId: context.actor?.userId ?? '' }),
  fields: (t) => ({
    title: t.string({
      description: 'An encrypted conversation shows "Encrypted conversation" unless its secret is given.',
      resolve: async (conversation, _args, context) => (await context.open(conversation.title)) ?? 'Encrypted conversation',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    privacy: t.expose('privacy', { type: PrivacyEnum }),
    templateVariables: t.expose('templateVariables', { type: 'JSON', nullable: true }),
    messageCount: t.relationCount('messages'),
    messages: t.relatedConnection(
      'messages',
      {
        description: 'Oldest first; `last`/`before` page backwards from the newest.',
        cursor: 'id',
        totalCount: true,
        query: () => ({ orderBy: { position: 'asc' } }),
      },
      { name: 'MessageConnection' },
      { name: 'MessageEdge' },
    ),
  }),
});

builder.queryFields((t) => ({
  conversations: t.prismaConnection(
    {
      type: 'Conversation',
      cursor: 'id',
      authScopes: { caller: true },
      args: { period: t.arg({ type: HistoryPeriodEnum }) },
      resolve: (query, _root, args, context) =>
        context.services.db.prisma.conversation.findMany({
          ...query,
          where: context.services.conversations.listWhere(requireActor(context), args.period),
          orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }],
        }),
      totalCount: (_connection, args, context) =>
        context.services.db.prisma.conversation.count({
          where: context.services.conversations.listWhere(requireActor(context), args.period),
        }),
    },
    { name: 'ConversationConnection' },
    { name: 'ConversationEdge' },
  ),
  conversation: t.prismaField({
    type: 'Conversation',
    nullable: true,
    authScopes: { caller: true },
    description: 'With `secret`, an encrypted conversation reads as plaintext (a wrong secret is FORBIDDEN, reason WRONG_SECRET).',
    args: { id: t.arg.globalID({ required: true, for: [ConversationRef] }), secret: t.arg.string() },
    resolve: async (query, _root, args, context) => {
      if (args.secret) {
        context.useSecret(args.secret);
        await context.ownKeys();
      }
      return context.services.db.prisma.conversation.findFirst({
        ...query,
        where: { id: args.id.id, ownerId: requireActor(context).userId },
      });
    },
  }),
}));

builder.mutationFields((t) => ({
  renameConversation: t.prismaField({
    type: 'Conversation',
    authScopes: { writer: true },
    args: { id: t.arg.globalID({ required: true, for: [ConversationRef] }), title: t.arg.string({ required: true }) },
    resolve: (query, _root, args, context) => context.services.conversations.rename(requireActor(context), args.id.id, args.title, context.secret(), query),
  }),
  deleteConversation: t.boolean({
    authScopes: { writer: true },
    args: { id: t.arg.globalID({ required: true, for: [ConversationRef] }) },
    resolve: (_root, args, context) => context.services.conversations.delete(requireActor(context), args.id.id),
  }),
}));
