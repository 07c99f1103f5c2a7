import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { defineConfig } from 'prisma/config';

// The Prisma CLI runs on the JS engine against a throwaway in-memory PGlite:
// Prisma's native engines cannot be downloaded here, and the CLI only needs a
// database to generate clients and diff schemas. The datasource still names
// DATABASE_URL, so give it a placeholder when none is set.
process.env.DATABASE_URL ??= 'postgres://localhost:5432/unused';

/**
 * `migrate diff --from-migrations` replays every committed migration on a
 * shadow database. pglite-prisma-adapter sends each migration file as one
 * prepared statement, which PostgreSQL refuses for several commands ("cannot
 * insert multiple commands into a prepared statement"), so the shadow runs
 * SQL without parameters through PGlite's simple-query `exec` instead.
 */
// The adapter's own translation into Prisma's error shape, so the CLI shows the PostgreSQL message.
function reportAsPrismaDoes(adapter: object, error: unknown): never {
  (adapter as { onError(error: unknown): never }).onError(error);
  throw error;
}

class ThrowawayPGlite extends PrismaPGlite {
  override async connectToShadowDb() {
    const shadow = new PGlite();
    const adapter = await new PrismaPGlite(shadow).connect();
    const executeRaw = adapter.executeRaw.bind(adapter);
    adapter.executeRaw = async (query) => {
      if (query.args.length > 0) return executeRaw(query);
      const results = await shadow.exec(query.sql).catch((error: unknown) => reportAsPrismaDoes(adapter, error));
      return results.at(-1)?.affectedRows ?? 0;
    };
    return adapter;
  }
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  async adapter() {
    // pglite-prisma-adapter ships its own copy of Prisma's adapter types.
    return new ThrowawayPGlite(new PGlite()) as never;
  },
});
