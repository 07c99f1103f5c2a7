import { randomUUID } from 'node:crypto';
import type { HeaderSource } from './lib/headers.js';
import { actorOf, type Actor, type Viewer } from './modules/identity/actor.js';
import type { Services } from './services.js';
import { isSealed, type UnlockedKeys } from './modules/encryption/encryption.service.js';

export interface GatewayContext {
  services: Services;
  /** Per-operation batching of look-ups that would otherwise run once per row. */
  loaders: ReturnType<typeof createLoaders>;
  requestId: string;
  /** The caller as authenticated; null when no credential was sent. */
  viewer: Viewer | null;
  /** Whose data the operation reads and writes; null for anonymous callers. */
  actor: Actor | null;
  acceptLanguage: string | undefined;
  /** Where this caller reaches the gateway (PUBLIC_URL, else the Host header), for absolute links. */
  origin: string;
  /** The encryption secret sent with x-encryption-secret, or a `secret` argument of this operation. */
  secret(): string | undefined;
  /** Uses this secret for the rest of the operation (a `secret` argument). */
  useSecret(secret: string): void;
  /** Opens sealed text for this caller (their key for private text, the key owner's for team text); null when it cannot. */
  open(stored: string): Promise<string | null>;
  /** This caller's own keys, when a secret was given. */
  ownKeys(): Promise<UnlockedKeys | null>;
}

/** Made on first use: most operations (every subscription, say) never batch a look-up. */
function createLoaders(services: Services) {
  let template: ReturnType<Services['templates']['createLoader']> | undefined;
  return {
    get template() {
      return (template ??= services.templates.createLoader());
    },
  };
}

export async function createContext(services: Services, headers: HeaderSource): Promise<GatewayContext> {
  const viewer = await services.identity.resolveViewer(headers);
  // Held in this closure, not on the context object, which the server may copy.
  let secret = headers('x-encryption-secret') || undefined;
  const unlocked = new Map<string, Promise<UnlockedKeys>>();
  const keysFor = (userId: string) => {
    if (!secret) return Promise.resolve(null);
    let keys = unlocked.get(userId);
    if (!keys) unlocked.set(userId, (keys = services.encryption.unlock(userId, secret)));
    return keys;
  };
  const context: GatewayContext = {
    services,
    loaders: createLoaders(services),
    requestId: headers('x-request-id') ?? randomUUID(),
    viewer,
    actor: viewer ? actorOf(viewer) : null,
    acceptLanguage: headers('accept-language'),
    origin:
      services.config.publicUrl ??
      `${headers('x-forwarded-proto') ?? 'http'}://${headers('x-forwarded-host') ?? headers('host') ?? `${services.config.host}:${services.config.port}`}`,
    secret: () => secret,
    useSecret(given) {
      secret = given;
      unlocked.clear();
    },
    async ownKeys() {
      return context.actor ? keysFor(context.actor.userId) : null;
    },
    async open(stored) {
      if (!isSealed(stored)) return stored;
      if (!context.actor || !context.viewer) return null;
      // Team text is sealed for the team owner: the authenticated key owner, not the member it acts for.
      const reader = stored.startsWith('jwe:') ? context.viewer.user.id : context.actor.userId;
      return services.encryption.open(stored, await keysFor(reader));
    },
  };
  return context;
}

/** The actor of an operation whose field declared the `caller` scope. */
export function requireActor(context: GatewayContext): Actor {
  if (!context.actor) throw new Error('requireActor used on a field without the caller scope');
  return context.actor;
}
