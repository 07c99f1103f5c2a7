import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  hkdfSync,
  randomBytes,
  scrypt,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import { compactDecrypt, CompactEncrypt } from 'jose';
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { Privacy } from '../../generated/prisma/enums.js';
import { badInput, UserFacingError } from '../../lib/errors.js';

const scryptAsync = promisify(scrypt) as (secret: string, salt: Buffer, length: number, options: object) => Promise<Buffer>;

/** scrypt at 32 MiB: memory-hard, about 0.1 s per unlock on a server core. */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const SEALED_PRIVATE = 'enc:v1:';
const SEALED_TEAM = 'jwe:v1:';
// PKCS#8 framing of a raw X25519 private key.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const MIN_SECRET_LENGTH = 8;

/** Keys derived from a user's secret; they live for one operation and are never stored. */
export interface UnlockedKeys {
  userId: string;
  /** AES-256-GCM key for PRIVATE_ENCRYPTED content. */
  contentKey: Buffer;
  /** X25519 private key that opens what team members sealed for this user. */
  teamKey: KeyObject;
}

export const isSealed = (text: string | null | undefined): text is string => Boolean(text && (text.startsWith(SEALED_PRIVATE) || text.startsWith(SEALED_TEAM)));

/** How one conversation's text is written: as is, under the owner's key, or sealed for the team owner. */
export type Sealer = (plaintext: string) => Promise<string>;

function derive(secret: string, salt: Buffer) {
  return scryptAsync(secret, salt, 32, SCRYPT).then((master) => {
    const part = (label: string) => Buffer.from(hkdfSync('sha256', master, salt, label, 32));
    const teamKey = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, part('x25519')]), format: 'der', type: 'pkcs8' });
    return {
      contentKey: part('content'),
      teamKey,
      verifier: createHash('sha256').update(part('verifier')).digest('hex'),
      publicKey: createPublicKey(teamKey).export({ format: 'der', type: 'spki' }).toString('base64'),
    };
  });
}

function aesSeal(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return SEALED_PRIVATE + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

function aesOpen(key: Buffer, sealed: string): string {
  const raw = Buffer.from(sealed.slice(SEALED_PRIVATE.length), 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

/**
 * Encryption at rest for PRIVATE_ENCRYPTED and TEAM_ENCRYPTED conversations.
 * A user's secret derives (scrypt, per-user salt) an AES-256-GCM content key
 * and an X25519 key pair; only a salt, a verifier and the public key are
 * stored. Team members seal text for the team owner's public key (JWE,
 * ECDH-ES with an ephemeral key), which only the owner's secret opens.
 */
export function createEncryptionService(prisma: PrismaClient) {
  async function unlock(userId: string, secret: string): Promise<UnlockedKeys> {
    const stored = await prisma.userKey.findUnique({ where: { userId } });
    if (!stored) {
      // The first secret a user gives becomes theirs.
      if (secret.length < MIN_SECRET_LENGTH) throw badInput('encryption.secretTooShort', { min: MIN_SECRET_LENGTH });
      const salt = randomBytes(16);
      const derived = await derive(secret, salt);
      try {
        await prisma.userKey.create({ data: { userId, salt: salt.toString('base64'), verifier: derived.verifier, publicKey: derived.publicKey } });
        return { userId, contentKey: derived.contentKey, teamKey: derived.teamKey };
      } catch (error) {
        // Another request set it first: check against that one.
        if ((error as { code?: string }).code !== 'P2002') throw error;
        return unlock(userId, secret);
      }
    }
    const derived = await derive(secret, Buffer.from(stored.salt, 'base64'));
    if (!timingSafeEqual(Buffer.from(derived.verifier, 'hex'), Buffer.from(stored.verifier, 'hex'))) {
      throw new UserFacingError('FORBIDDEN', 'encryption.wrongSecret', {}, { reason: 'WRONG_SECRET' });
    }
    return { userId, contentKey: derived.contentKey, teamKey: derived.teamKey };
  }

  return {
    unlock,

    /** The writer for a conversation of this privacy; `keys` for PRIVATE, the team owner's id for TEAM. */
    async sealerFor(privacy: Privacy, context: { keys?: UnlockedKeys | null; teamOwnerId?: string | null }): Promise<Sealer> {
      if (privacy === 'PUBLIC') return async (text) => text;
      if (privacy === 'PRIVATE_ENCRYPTED') {
        if (!context.keys) throw badInput('encryption.secretRequired');
        const key = context.keys.contentKey;
        return async (text) => aesSeal(key, text);
      }
      if (!context.teamOwnerId) throw badInput('encryption.noTeam');
      // Looked up once per conversation turn, not once per sealed text (a reply is sealed at every flush).
      const recipient = await prisma.userKey.findUnique({ where: { userId: context.teamOwnerId }, select: { publicKey: true } });
      if (!recipient) throw badInput('encryption.ownerHasNoKey');
      const publicKey = createPublicKey({ key: Buffer.from(recipient.publicKey, 'base64'), format: 'der', type: 'spki' });
      return async (text) =>
        SEALED_TEAM + (await new CompactEncrypt(new TextEncoder().encode(text)).setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM' }).encrypt(publicKey));
    },

    /** The plaintext, or null when these keys cannot open it (or none were given). */
    async open(stored: string, keys: UnlockedKeys | null | undefined): Promise<string | null> {
      if (!isSealed(stored)) return stored;
      if (!keys) return null;
      try {
        if (stored.startsWith(SEALED_PRIVATE)) return aesOpen(keys.contentKey, stored);
        const { plaintext } = await compactDecrypt(stored.slice(SEALED_TEAM.length), keys.teamKey);
        return new TextDecoder().decode(plaintext);
      } catch {
        return null;
      }
    },
  };
}

export type EncryptionService = ReturnType<typeof createEncryptionService>;
