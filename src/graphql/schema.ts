import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import '../modules/system/system.schema.js';
import '../modules/identity/identity.schema.js';
import '../modules/catalog/catalog.schema.js';
import '../modules/conversations/conversations.schema.js';
import '../modules/conversations/messages.schema.js';
import '../modules/chat/chat.schema.js';
import '../modules/templates/templates.schema.js';
import '../modules/feedback/feedback.schema.js';
import '../modules/memories/memories.schema.js';
import '../modules/usage/usage.schema.js';
import '../modules/search/search.schema.js';
import '../modules/files/files.schema.js';
import '../modules/exports/exports.schema.js';
import '../modules/images/images.schema.js';
import '../modules/voice/voice.schema.js';
import '../modules/batch/batch.schema.js';
import '../modules/encryption/encryption.schema.js';
import '../modules/tools/tools.schema.js';
import '../modules/knowledge/knowledge.schema.js';

export const schema = builder.toSchema({ sortSchema: false });

export function printGatewaySchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
