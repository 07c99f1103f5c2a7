-- Cosine distance over float8[] on every database (the knowledge migration made it only where pgvector
-- is missing): message search ranks "Message"."embedding" with it in the database.
CREATE OR REPLACE FUNCTION "cosine_distance"(a float8[], b float8[]) RETURNS float8
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS 'SELECT CASE WHEN cardinality(a) <> cardinality(b) THEN 2
                  ELSE 1 - sum(x * y) / nullif(sqrt(sum(x * x)) * sqrt(sum(y * y)), 0) END
      FROM unnest(a, b) AS v(x, y)';
