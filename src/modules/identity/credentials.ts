import { createHash, createPublicKey, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { JwtConfig } from '../../lib/config.js';
import { unauthenticated } from '../../lib/errors.js';

export const API_KEY_MARKER = 'gwk_';

/** A new API key: `gwk_<prefix>_<secret>`; only the prefix and a hash of the whole key are stored. */
export function generateApiKey(): { secret: string; prefix: string; secretHash: string } {
  const prefix = randomBytes(8).toString('hex');
  const secret = `${API_KEY_MARKER}${prefix}_${randomBytes(32).toString('base64url')}`;
  return { secret, prefix, secretHash: hashApiKey(secret) };
}

// API keys carry 256 random bits, so a fast hash is enough; a password KDF would add nothing.
export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function apiKeyPrefix(secret: string): string | undefined {
  return /^gwk_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/.exec(secret)?.[1];
}

export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

export type JwtVerifier = (token: string) => Promise<JWTPayload>;

/** Verifies bearer JWTs against the configured secret, public key or JWKS; null when none is configured. */
export function createJwtVerifier(config: JwtConfig): JwtVerifier | null {
  const sources = [config.secret, config.publicKey, config.jwksUrl].filter(Boolean);
  if (sources.length === 0) return null;
  if (sources.length > 1) throw new Error('Configure exactly one of JWT_SECRET, JWT_PUBLIC_KEY and JWT_JWKS_URL');
  if (!config.issuer || !config.audience) throw new Error('JWT_ISSUER and JWT_AUDIENCE are required when JWTs are accepted');
  const algorithms = config.algorithms.filter((algorithm) => algorithm.toLowerCase() !== 'none');
  if (algorithms.length === 0) throw new Error('JWT_ALGORITHMS allows no usable algorithm');

  const key: Uint8Array | ReturnType<typeof createPublicKey> | JWTVerifyGetKey = config.secret
    ? new TextEncoder().encode(config.secret)
    : config.publicKey
      ? createPublicKey(config.publicKey)
      : createRemoteJWKSet(new URL(config.jwksUrl!));

  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, key as Uint8Array, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms,
        clockTolerance: config.clockToleranceSeconds,
        requiredClaims: ['sub', 'exp'],
      });
      return payload;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthenticated('auth.tokenExpired');
      if (error instanceof joseErrors.JWTClaimValidationFailed) throw unauthenticated('auth.tokenClaim', { claim: error.claim });
      throw unauthenticated('auth.tokenInvalid');
    }
  };
}
