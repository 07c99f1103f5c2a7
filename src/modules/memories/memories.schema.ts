import { requireActor } from '../../context.js';
import { builder } from '../../graphql/builder.js';

export const MemoryRef = builder.prismaNode('Memory', {
  id: { field: 'id' },
  findUnique: (id, context) => ({ id, userId: context.actor?.userId ?? '' }),
  fields: (t) => ({
    content: t.exposeString('content'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('memories', (t) =>
  t.prismaConnection(
    {
      type: 'Memory',
      cursor: 'id',
      description: 'What you asked the assistant to remember, newest first; the most relevant join each turn.',
      authScopes: { caller: true },
      resolve: (query, _root, _args, context) =>
        context.services.db.prisma.memory.findMany({
          ...query,
          where: { userId: requireActor(context).userId },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        }),
      totalCount: (_connection, _args, context) => context.services.db.prisma.memory.count({ where: { userId: requireActor(context).userId } }),
    },
    { name: 'MemoryConnection' },
    { name: 'MemoryEdge' },
  ),
);

builder.mutationFields((t) => ({
  createMemory: t.field({
    type: MemoryRef,
    description: 'Costs MEMORY_CREDIT_COST credits.',
    authScopes: { writer: true },
    args: { content: t.arg.string({ required: true }) },
    resolve: (_root, args, context) => context.services.memories.create(requireActor(context), args.content),
  }),
  deleteMemory: t.boolean({
    authScopes: { writer: true },
    args: { id: t.arg.globalID({ required: true, for: [MemoryRef] }) },
    resolve: (_root, args, context) => context.services.memories.delete(requireActor(context), args.id.id),
  }),
}));
