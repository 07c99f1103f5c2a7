-- Message search ranks on the same vector index as knowledge passages: the 64-dimension float8[]
-- vectors give way to a hand-written "embedding" column of the knowledge chunks' kind (pgvector
-- vector(256) with an HNSW index where "KnowledgeChunk"."embedding" is one, float8[] for the exact
-- scan elsewhere). NULL means not indexed yet: old messages are embedded again by a background pass
-- at startup (src/modules/search/message-vectors.ts).
ALTER TABLE "Message" DROP COLUMN "embedding";

DO $$
BEGIN
  IF (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
      WHERE a.attrelid = '"KnowledgeChunk"'::regclass AND a.attname = 'embedding' AND NOT a.attisdropped) LIKE 'vector%' THEN
    EXECUTE 'ALTER TABLE "Message" ADD COLUMN "embedding" vector(256)';
    EXECUTE 'CREATE INDEX "Message_embedding_idx" ON "Message" USING hnsw ("embedding" vector_cosine_ops)';
  ELSE
    ALTER TABLE "Message" ADD COLUMN "embedding" float8[];
  END IF;
END
$$;

-- The backfill's queue: messages not yet embedded.
CREATE INDEX "Message_unembedded_idx" ON "Message" ("position") WHERE "embedding" IS NULL;
