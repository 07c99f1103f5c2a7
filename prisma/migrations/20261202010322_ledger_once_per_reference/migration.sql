-- AlterTable
ALTER TABLE "BatchRequest" ADD COLUMN     "attempt" INTEGER NOT NULL DEFAULT 0;


-- Written by hand from here on (Prisma cannot express a partial index).

-- Requests taken before attempts were counted: one attempt per reservation made for them.
UPDATE "BatchRequest" AS request SET "attempt" = reserves.count
FROM (
    SELECT reference, count(*)::int AS count FROM "CreditLedgerEntry"
    WHERE kind = 'reserve' AND reference IS NOT NULL GROUP BY reference
) AS reserves
WHERE reserves.reference = request.id;

-- Until now a reference could repeat: a batch request run again after a
-- takeover reserved under the same reference, and a reservation could be
-- settled twice. Every row is kept with its amount; the n-th row (n > 1) of a
-- kind for one reference is renamed "<reference>:<n>", which for a batch
-- request is the reference its n-th attempt now reserves under.
UPDATE "CreditLedgerEntry" AS entry SET reference = entry.reference || ':' || repeated.n
FROM (
    SELECT id, row_number() OVER (PARTITION BY reference, kind ORDER BY "createdAt", id) AS n
    FROM "CreditLedgerEntry" WHERE reference IS NOT NULL AND kind IN ('reserve', 'charge', 'refund')
) AS repeated
WHERE entry.id = repeated.id AND repeated.n > 1;

-- CreateIndex: a reference is reserved (or charged) once and settled once.
CREATE UNIQUE INDEX "CreditLedgerEntry_reference_kind_key" ON "CreditLedgerEntry"("reference", "kind")
WHERE "reference" IS NOT NULL AND "kind" IN ('reserve', 'charge', 'refund');
