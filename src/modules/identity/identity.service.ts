import type { JWTPayload } from 'jose';
import { truncated } from '../../lib/text.js';
import type { PrismaClient, User } from '../../generated/prisma/client.js';
import type { Config } from '../../lib/config.js';
import { isUniqueViolation } from '../../lib/db.js';
import { badInput, forbidden, unauthenticated } from '../../lib/errors.js';
import type { HeaderSource } from '../../lib/headers.js';
import type { Viewer } from './actor.js';
import { API_KEY_MARKER, apiKeyPrefix, createJwtVerifier, hashApiKey, sameHash } from './credentials.js';
import { tierOrder } from './tiers.js';
import type { NewUser, UsersService } from './users.service.js';

const deviceIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

export function createIdentityService(prisma: PrismaClient, config: Config, users: UsersService) {
  const verifyJwt = createJwtVerifier(config.jwt);

  /** Finds or creates; a concurrent first request for the same identity finds the other's row. */
  async function findOrCreate(find: () => Promise<User | null>, data: NewUser): Promise<User> {
    const existing = await find();
    if (existing) return existing;
    try {
      return await users.create(data);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const created = await find();
      if (!created) throw error;
      return created;
    }
  }

  // Every guest operation starts here: raw SQL skips Prisma's per-call query compilation (about 2 ms of CPU).
  const guestByDevice = async (deviceId: string) =>
    (
      await prisma.$queryRaw<User[]>`SELECT id, email, name, "authSubject", "deviceId", platform, tier::text AS tier, "isOperator",
        "creditBalance", "freeMessagesUsed", "createdAt", "updatedAt" FROM "User" WHERE "deviceId" = ${deviceId}`
    )[0] ?? null;

  async function guestFor(deviceId: string, platform: string | undefined): Promise<Viewer> {
    if (!deviceIdPattern.test(deviceId)) throw badInput('input.badDeviceId');
    const user = await findOrCreate(() => guestByDevice(deviceId), {
      deviceId,
      platform: platform === undefined || platform === null ? platform : truncated(platform, 32),
    });
    return { user, isGuest: true, tier: user.tier };
  }

  function tierClaim(payload: JWTPayload) {
    const claimed = payload[config.jwt.tierClaim];
    return typeof claimed === 'string' && (tierOrder as string[]).includes(claimed.toUpperCase()) ? (claimed.toUpperCase() as User['tier']) : undefined;
  }

  async function userForJwt(token: string): Promise<Viewer> {
    if (!verifyJwt) throw unauthenticated('auth.jwtNotAccepted');
    const payload = await verifyJwt(token);
    const subject = payload.sub!;
    const email = typeof payload.email === 'string' ? payload.email.toLowerCase() : null;
    const name = typeof payload.name === 'string' ? payload.name : null;
    const tier = tierClaim(payload);
    let user = await findOrCreate(
      async () =>
        (await prisma.user.findUnique({ where: { authSubject: subject } })) ??
        // A user an operator created by email takes over the identity provider's subject.
        (email ? await prisma.user.findFirst({ where: { email, authSubject: null } }) : null),
      { authSubject: subject, email, name, tier },
    );
    const changes = {
      ...(user.authSubject !== subject ? { authSubject: subject } : {}),
      ...(email && user.email !== email ? { email } : {}),
      ...(name && user.name !== name ? { name } : {}),
      ...(tier && user.tier !== tier ? { tier } : {}),
    };
    if (Object.keys(changes).length > 0) user = await prisma.user.update({ where: { id: user.id }, data: changes });
    return { user, isGuest: false, tier: user.tier };
  }

  async function userForApiKey(secret: string): Promise<Viewer> {
    const prefix = apiKeyPrefix(secret);
    const key = prefix ? await prisma.apiKey.findUnique({ where: { prefix }, include: { owner: true } }) : null;
    if (!key || !sameHash(key.secretHash, hashApiKey(secret))) throw unauthenticated('auth.apiKeyInvalid');
    if (key.revokedAt) throw unauthenticated('auth.apiKeyRevoked');
    if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) throw unauthenticated('auth.apiKeyExpired');
    // Recording last use is best effort and at most once a minute per key.
    if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > 60_000) {
      void prisma.apiKey.update({ where: { id: key.id }, data: { lastUsedAt: new Date() } }).catch(() => {});
    }
    return {
      user: key.owner,
      isGuest: false,
      tier: key.owner.tier,
      apiKey: { id: key.id, scopes: key.scopes, allowExternalUsage: key.allowExternalUsage },
    };
  }

  async function actingUserFor(viewer: Viewer, email: string): Promise<User> {
    if (!viewer.apiKey?.allowExternalUsage) throw forbidden('auth.actingNotAllowed');
    const member = await prisma.user.findFirst({
      where: {
        email: email.trim().toLowerCase(),
        memberships: { some: { team: { OR: [{ ownerId: viewer.user.id }, { members: { some: { userId: viewer.user.id } } }] } } },
      },
    });
    if (!member) throw forbidden('auth.actingNotMember', { email });
    return member;
  }

  /** The viewer behind the request's credentials, or null when it sent none. A bad credential is an error, never a guest. */
  async function resolveViewer(headers: HeaderSource): Promise<Viewer | null> {
    const authorization = headers('authorization')?.trim();
    let viewer: Viewer | null = null;
    if (authorization) {
      const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
      if (!token) throw unauthenticated('auth.badHeader');
      viewer = token.startsWith(API_KEY_MARKER) ? await userForApiKey(token) : await userForJwt(token);
    } else {
      const deviceId = headers('x-device-id')?.trim();
      if (deviceId) viewer = await guestFor(deviceId, headers('x-platform'));
    }
    const actingEmail = headers('x-acting-user-email')?.trim();
    if (actingEmail) {
      if (!viewer) throw unauthenticated();
      viewer = { ...viewer, actingUser: await actingUserFor(viewer, actingEmail) };
    }
    return viewer;
  }

  return {
    /**
     * Refuses a bad credential, for a socket opening. A guest is only checked
     * for a well-formed device id: each operation looks the guest up anyway.
     */
    async checkCredentials(headers: HeaderSource): Promise<void> {
      const deviceId = headers('x-device-id')?.trim();
      if (!headers('authorization') && !headers('x-acting-user-email') && deviceId) {
        if (!deviceIdPattern.test(deviceId)) throw badInput('input.badDeviceId');
        return;
      }
      await resolveViewer(headers);
    },

    resolveViewer,
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;
