// npm run db:migrate: applies pending migrations to DATABASE_URL (in DATABASE_SCHEMA
// when set), or to the embedded database under DATA_DIR. The embedded database is
// opened in this process, as the server opens it: no other process may touch its directory.
import { openDatabase } from '../src/lib/db.js';

function describeTarget(): string {
  if (!process.env.DATABASE_URL) return `the embedded database in ${process.env.DATA_DIR || './data'}`;
  const url = new URL(process.env.DATABASE_URL);
  const schema = process.env.DATABASE_SCHEMA ? `, schema ${process.env.DATABASE_SCHEMA}` : '';
  return `PostgreSQL at ${url.host}${url.pathname}${schema}`;
}

async function main() {
  const target = describeTarget();
  const database = await openDatabase({
    databaseUrl: process.env.DATABASE_URL || undefined,
    dataDir: process.env.DATA_DIR || './data',
    schema: process.env.DATABASE_SCHEMA || undefined,
  });
  try {
    if (database.appliedMigrations.length === 0) {
      console.log(`${target} is up to date.`);
    } else {
      console.log(`Applied ${database.appliedMigrations.length} migration(s) to ${target}:`);
      for (const name of database.appliedMigrations) console.log(`  ${name}`);
    }
  } finally {
    await database.close();
  }
}

try {
  await main();
} catch (error) {
  console.error(`Migration failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
