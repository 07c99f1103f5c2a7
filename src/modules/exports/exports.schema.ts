import type { UploadedFile } from '../../generated/prisma/client.js';
import { requireActor } from '../../context.js';
import { builder } from '../../graphql/builder.js';
import { encodeGlobalId } from '../../graphql/global-id.js';
import { ConversationRef } from '../conversations/conversations.schema.js';
import { MessageRef } from '../conversations/messages.schema.js';
import { fileDownloadUrl } from '../files/file-download.js';

const ExportFormatEnum = builder.enumType('ExportFormat', { values: ['PDF', 'MARKDOWN', 'JSON'] as const });

const ExportedDocumentRef = builder.objectRef<UploadedFile>('ExportedDocument').implement({
  fields: (t) => ({
    url: t.string({
      description: 'Where the document downloads from (GET, same credentials); anyone else gets 404.',
      resolve: (file, _args, context) => fileDownloadUrl(context.origin, encodeGlobalId('UploadedFile', file.id)),
    }),
    mimeType: t.exposeString('mimeType'),
    size: t.exposeInt('size', { description: 'Bytes.' }),
    expiresAt: t.field({ type: 'DateTime', resolve: (file) => file.expiresAt ?? file.createdAt }),
  }),
});

builder.mutationField('exportConversation', (t) =>
  t.field({
    type: ExportedDocumentRef,
    description: "A conversation, or one reply of it, as a PDF, Markdown or JSON document (the seeds' is_agent_input PDF).",
    // It stores a file (until it expires), so a key needs `write`, as for every change.
    authScopes: { writer: true },
    args: {
      id: t.arg.globalID({ required: true, for: [ConversationRef] }),
      format: t.arg({ type: ExportFormatEnum, required: true }),
      messageId: t.arg.globalID({ for: [MessageRef] }),
      secret: t.arg.string({ description: 'Your encryption secret, for an encrypted conversation (or send x-encryption-secret).' }),
    },
    resolve: (_root, args, context) =>
      context.services.exports.export(requireActor(context), {
        conversationId: args.id.id,
        format: args.format,
        messageId: args.messageId?.id ?? null,
        secret: args.secret ?? context.secret(),
      }),
  }),
);
