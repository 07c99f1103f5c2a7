import { Prisma, type PrismaClient } from '../../generated/prisma/client.js';

/** Length of every stored knowledge vector: the "embedding" column is vector(256) under pgvector. */
export const KNOWLEDGE_DIMENSIONS = 256;

/**
 * How the database ranks vectors: "hnsw" is pgvector's approximate index
 * (PGlite, and PostgreSQL servers that have the extension); "exact" is a full
 * scan with the migration's cosine_distance() over float8[] where pgvector is
 * missing. Both order by the same cosine distance, in the database.
 */
export type VectorIndexKind = 'hnsw' | 'exact';

export interface VectorIndex {
  kind: VectorIndexKind;
  /** The query vector as a bound parameter of the column's type. */
  parameter(vector: readonly number[]): Prisma.Sql;
  /** Cosine distance (0 = same direction, 2 = opposite) of a column to a query vector. */
  distance(column: Prisma.Sql, vector: readonly number[]): Prisma.Sql;
  /** Settings for one search statement, run in its transaction (pgvector's filtered HNSW scans). */
  searchSettings(): Prisma.Sql[];
}

/** Reads which column type the migration chose; the same answer for every instance on one database. */
export async function detectVectorIndex(prisma: PrismaClient): Promise<VectorIndex> {
  const rows = await prisma.$queryRaw<Array<{ type: string }>>`
    SELECT format_type(a.atttypid, a.atttypmod) AS type
    FROM pg_attribute a
    WHERE a.attrelid = to_regclass('"KnowledgeChunk"') AND a.attname = 'embedding' AND NOT a.attisdropped`;
  return vectorIndexOf(rows[0]?.type.startsWith('vector') ? 'hnsw' : 'exact');
}

export function vectorIndexOf(kind: VectorIndexKind): VectorIndex {
  const parameter = (vector: readonly number[]) =>
    kind === 'hnsw' ? Prisma.sql`CAST(${`[${vector.join(',')}]`} AS vector)` : Prisma.sql`CAST(${vector as number[]} AS float8[])`;
  return {
    kind,
    parameter,
    distance: (column, vector) =>
      kind === 'hnsw' ? Prisma.sql`(${column} <=> ${parameter(vector)})` : Prisma.sql`cosine_distance(${column}, ${parameter(vector)})`,
    searchSettings: () =>
      // Without iterative scans an HNSW search filtered to a few collections could return fewer rows than asked.
      kind === 'hnsw' ? [Prisma.sql`SET LOCAL hnsw.iterative_scan = strict_order`, Prisma.sql`SET LOCAL hnsw.ef_search = 100`] : [],
  };
}
