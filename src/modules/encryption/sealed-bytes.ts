import type { PrismaClient } from '../../generated/prisma/client.js';
import { badInput } from '../../lib/errors.js';
import type { Actor } from '../identity/actor.js';
import type { ConversationAccessService } from './conversation-access.js';
import type { EncryptionService, Sealer } from './encryption.service.js';

/**
 * Bytes sealed like a conversation's text: the base64 of the bytes goes through
 * the conversation's sealer, so a file the gateway made from an encrypted
 * conversation (an export) is stored under the same key as its messages.
 */
export const bytesSealer =
  (seal: Sealer) =>
  async (bytes: Uint8Array): Promise<Uint8Array> =>
    new TextEncoder().encode(await seal(Buffer.from(bytes).toString('base64')));

export interface SealedBytesDeps {
  prisma: PrismaClient;
  access: ConversationAccessService;
  encryption: EncryptionService;
}

/**
 * The plaintext of bytes sealed for one of the caller's conversations, or null
 * when that conversation is not (or no longer) theirs. Without a secret that
 * opens them: the same error as reading the conversation without one.
 */
export async function openSealedBytes(
  deps: SealedBytesDeps,
  actor: Actor,
  conversationId: string,
  stored: Uint8Array,
  secret: string | null | undefined,
): Promise<Buffer | null> {
  const conversation = await deps.prisma.conversation.findFirst({ where: { id: conversationId, ownerId: actor.userId }, select: { privacy: true } });
  if (!conversation) return null;
  const { keys } = await deps.access.forPrivacy(actor, conversation.privacy, secret);
  const opened = keys ? await deps.encryption.open(new TextDecoder().decode(stored), keys) : null;
  if (opened === null) throw badInput('encryption.secretRequired');
  return Buffer.from(opened, 'base64');
}
