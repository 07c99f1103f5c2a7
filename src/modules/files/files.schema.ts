import { requireActor } from '../../context.js';
import { builder } from '../../graphql/builder.js';
import { encodeGlobalId } from '../../graphql/global-id.js';
import { ConversationRef } from '../conversations/conversations.schema.js';
import { fileDownloadUrl } from './file-download.js';

export const UploadedFileRef = builder.prismaNode('UploadedFile', {
  id: { field: 'id' },
  findUnique: (id, context) => ({ id, ownerId: context.actor?.userId ?? '' }),
  fields: (t) => ({
    filename: t.exposeString('filename'),
    mimeType: t.exposeString('mimeType', { description: 'Sniffed from the bytes, not trusted from the client.' }),
    size: t.exposeInt('size', { description: 'Bytes.' }),
    tokenCount: t.exposeInt('tokenCount', { description: 'Tokens of the extracted text (o200k; an estimate for images and for other vendors).' }),
    conversation: t.relation('conversation', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'Set while the file is attached to no conversation.' }),
    url: t.string({
      description: 'Where the bytes download from, with the same credentials.',
      resolve: (file, _args, context) => fileDownloadUrl(context.origin, encodeGlobalId('UploadedFile', file.id)),
    }),
  }),
});

builder.prismaObjectField('Conversation', 'files', (t) => t.relation('files', { query: { orderBy: { createdAt: 'asc' } } }));

builder.prismaObjectField('Message', 'attachments', (t) =>
  t.field({
    type: [UploadedFileRef],
    select: { attachments: { select: { file: true } } },
    resolve: (message) => message.attachments.map((attachment) => attachment.file),
  }),
);

builder.queryField('files', (t) =>
  t.prismaField({
    type: ['UploadedFile'],
    description: 'Your uploaded files, newest first; only those of one conversation when it is given.',
    authScopes: { caller: true },
    args: { conversationId: t.arg.globalID({ for: [ConversationRef] }) },
    resolve: (query, _root, args, context) =>
      context.services.db.prisma.uploadedFile.findMany({
        ...query,
        where: {
          ownerId: requireActor(context).userId,
          ...(args.conversationId ? { conversationId: args.conversationId.id } : {}),
        },
        orderBy: { createdAt: 'desc' },
      }),
  }),
);

builder.mutationFields((t) => ({
  uploadFile: t.field({
    type: UploadedFileRef,
    description:
      'GraphQL multipart request. Text, Markdown, CSV, JSON, HTML, PDF, DOCX, PNG, JPEG, WebP or GIF, judged by the bytes. Without a conversation the file expires unless a message uses it.',
    authScopes: { writer: true },
    args: { file: t.arg({ type: 'File', required: true }), conversationId: t.arg.globalID({ for: [ConversationRef] }) },
    resolve: (_root, args, context) => context.services.files.upload(requireActor(context), args.file, args.conversationId?.id ?? null),
  }),
  uploadFileFromUrl: t.field({
    type: UploadedFileRef,
    description: 'Like uploadFile, but the gateway fetches the bytes from the URL (allow-listed hosts only; see FILE_URL_ALLOWED_HOSTS).',
    authScopes: { writer: true },
    args: { url: t.arg.string({ required: true }), conversationId: t.arg.globalID({ for: [ConversationRef] }) },
    resolve: (_root, args, context) => context.services.files.uploadFromUrl(requireActor(context), args.url, args.conversationId?.id ?? null),
  }),
  removeFiles: t.prismaField({
    type: ['UploadedFile'],
    description: 'Removes your files; ids already gone are ignored, so it is safe to repeat.',
    authScopes: { writer: true },
    args: { ids: t.arg.globalIDList({ required: true, for: [UploadedFileRef] }) },
    resolve: (query, _root, args, context) =>
      context.services.files.remove(
        requireActor(context),
        args.ids.map(({ id }) => id),
        query,
      ),
  }),
}));
