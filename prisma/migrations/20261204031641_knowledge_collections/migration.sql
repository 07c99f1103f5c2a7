-- CreateEnum
CREATE TYPE "IndexStatus" AS ENUM ('QUEUED', 'INDEXING', 'READY', 'FAILED');

-- AlterEnum
ALTER TYPE "UsageAction" ADD VALUE 'INDEXING';

-- CreateTable
CREATE TABLE "KnowledgeCollection" (
    "id" TEXT NOT NULL,
    "ownerId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "KnowledgeCollection_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "KnowledgeDocument" (
    "id" TEXT NOT NULL,
    "collectionId" TEXT NOT NULL,
    "billedUserId" TEXT NOT NULL,
    "apiKeyId" TEXT,
    "source" TEXT NOT NULL,
    "mimeType" TEXT NOT NULL,
    "fileId" TEXT,
    "text" TEXT,
    "bytes" INTEGER NOT NULL,
    "status" "IndexStatus" NOT NULL DEFAULT 'QUEUED',
    "error" TEXT,
    "chunkCount" INTEGER NOT NULL DEFAULT 0,
    "tokenCount" INTEGER NOT NULL DEFAULT 0,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "claimedBy" TEXT,
    "heartbeatAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "indexedAt" TIMESTAMP(3),

    CONSTRAINT "KnowledgeDocument_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "KnowledgeChunk" (
    "id" TEXT NOT NULL,
    "documentId" TEXT NOT NULL,
    "collectionId" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "headingPath" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "content" TEXT NOT NULL,
    "tokenCount" INTEGER NOT NULL,
    "searchText" tsvector,

    CONSTRAINT "KnowledgeChunk_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "KnowledgeCollection_ownerId_name_key" ON "KnowledgeCollection"("ownerId", "name");

-- CreateIndex
CREATE INDEX "KnowledgeDocument_collectionId_createdAt_idx" ON "KnowledgeDocument"("collectionId", "createdAt");

-- CreateIndex
CREATE INDEX "KnowledgeDocument_status_createdAt_idx" ON "KnowledgeDocument"("status", "createdAt");

-- CreateIndex
CREATE INDEX "KnowledgeChunk_collectionId_idx" ON "KnowledgeChunk"("collectionId");

-- CreateIndex
CREATE INDEX "KnowledgeChunk_documentId_position_idx" ON "KnowledgeChunk"("documentId", "position");

-- AddForeignKey
ALTER TABLE "KnowledgeCollection" ADD CONSTRAINT "KnowledgeCollection_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "KnowledgeDocument" ADD CONSTRAINT "KnowledgeDocument_collectionId_fkey" FOREIGN KEY ("collectionId") REFERENCES "KnowledgeCollection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "KnowledgeChunk" ADD CONSTRAINT "KnowledgeChunk_documentId_fkey" FOREIGN KEY ("documentId") REFERENCES "KnowledgeDocument"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Full-text side of knowledge search.
CREATE INDEX "KnowledgeChunk_searchText_idx" ON "KnowledgeChunk" USING GIN ("searchText");

-- The vector side: pgvector with an HNSW index where the database offers the
-- extension, else float8[] ranked by an exact scan (same cosine distance).
-- Prisma's schema cannot describe a column whose type depends on the database,
-- so it is written here and left out of schema.prisma.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
    CREATE EXTENSION IF NOT EXISTS vector;
    EXECUTE 'ALTER TABLE "KnowledgeChunk" ADD COLUMN "embedding" vector(256) NOT NULL';
    EXECUTE 'CREATE INDEX "KnowledgeChunk_embedding_idx" ON "KnowledgeChunk" USING hnsw ("embedding" vector_cosine_ops)';
  ELSE
    ALTER TABLE "KnowledgeChunk" ADD COLUMN "embedding" float8[] NOT NULL;
    -- pgvector's <=> (cosine distance), exactly; vectors of different lengths are as far apart as possible.
    CREATE FUNCTION "cosine_distance"(a float8[], b float8[]) RETURNS float8
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
      AS 'SELECT CASE WHEN cardinality(a) <> cardinality(b) THEN 2
                      ELSE 1 - sum(x * y) / nullif(sqrt(sum(x * x)) * sqrt(sum(y * y)), 0) END
          FROM unnest(a, b) AS v(x, y)';
  END IF;
END
$$;
