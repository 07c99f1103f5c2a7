import { buildApp } from './app.js';
import { ConfigError } from './lib/config.js';
import { createLogger } from './lib/logger.js';
import { RedisUnavailableError } from './lib/redis.js';

const app = await buildApp().catch((error: unknown) => {
  // A configuration the gateway cannot start with is said in one line, without a stack trace.
  if (error instanceof ConfigError) {
    createLogger('info').fatal(error.message);
    process.exit(1);
  }
  if (error instanceof RedisUnavailableError) {
    createLogger(process.env.LOG_LEVEL || 'info').fatal({ redis: error.address }, error.message);
    process.exit(1);
  }
  throw error;
});
await app.start();

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    app.services.logger.info({ signal }, 'shutting down');
    // Whatever is still pending then (a peer that never reads, a stuck statement), the process ends.
    const { shutdownDrainMs, shutdownGraceMs, shutdownForceAfterMs } = app.services.config;
    setTimeout(
      () => {
        app.services.logger.error({ pending: process.getActiveResourcesInfo() }, 'shutdown did not finish in time; exiting');
        process.exit(1);
      },
      shutdownDrainMs + shutdownGraceMs + shutdownForceAfterMs,
    ).unref();
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        app.services.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
