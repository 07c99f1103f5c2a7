// npm run db:new-migration -- <name>
// Writes prisma/migrations/<YYYYMMDDHHMMSS>_<name>/migration.sql: the SQL that
// takes a database with every committed migration to the current schema.prisma.
//
// This is Prisma's own `migrate diff --from-migrations`; its shadow database is
// the in-memory PGlite that prisma.config.ts gives the CLI (the native shadow
// database engine cannot be downloaded here).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const migrationsDir = path.join(root, 'prisma', 'migrations');

function migrationName(): string {
  const name = process.argv[2];
  if (!name || !/^[a-z0-9_]+$/.test(name)) {
    console.error('Usage: npm run db:new-migration -- <name in snake_case>');
    process.exit(1);
  }
  return name;
}

/** The SQL from the committed migrations to schema.prisma; Prisma's progress and errors go to stderr. */
function diffFromMigrations(): string {
  const prismaCli = path.join(root, 'node_modules', 'prisma', 'build', 'index.js');
  const args = ['migrate', 'diff', '--from-migrations', migrationsDir, '--to-schema-datamodel', path.join(root, 'prisma', 'schema.prisma'), '--script'];
  const result = spawnSync(process.execPath, [prismaCli, ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) {
    console.error(`prisma migrate diff failed${result.error ? `: ${result.error.message}` : ''}`);
    process.exit(1);
  }
  return result.stdout;
}

/** UTC, like Prisma's own migration folders. */
function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\D/g, '').slice(0, 14);
}

/**
 * Objects the migrations create by hand because schema.prisma cannot describe them
 * (a column whose type depends on whether the database has pgvector, and the
 * indexes on them). Prisma sees them as extra and would drop them: keep those
 * statements out of a new migration.
 */
const keptOutOfPrisma = [
  /"KnowledgeChunk_searchText_idx"/,
  /ALTER TABLE "KnowledgeChunk" DROP COLUMN "embedding";/,
  /"Message_embedding_idx"/,
  /"Message_unembedded_idx"/,
  /ALTER TABLE "Message" DROP COLUMN "embedding";/,
];

function withoutHandWrittenObjects(sql: string): string {
  const statements = sql.split(/\n(?=-- )/);
  const kept = statements.filter((statement) => !keptOutOfPrisma.some((pattern) => pattern.test(statement)));
  return kept.length === 0 || kept.every((statement) => statement.trim() === '') ? '-- This is an empty migration.' : kept.join('\n');
}

const name = migrationName();
const sql = withoutHandWrittenObjects(diffFromMigrations());
if (sql.includes('This is an empty migration')) {
  console.log('No schema changes: prisma/schema.prisma matches the committed migrations.');
} else {
  const folder = path.join(migrationsDir, `${timestamp()}_${name}`);
  if (existsSync(folder)) {
    console.error(`${path.relative(root, folder)} already exists`);
    process.exit(1);
  }
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'migration.sql'), sql);
  console.log(`Wrote ${path.relative(root, folder)}/migration.sql; review it, then apply it with npm run db:migrate.`);
}
