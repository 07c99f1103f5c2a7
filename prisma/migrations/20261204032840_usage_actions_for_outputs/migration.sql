-- AlterEnum
-- IF NOT EXISTS: other work may add the same values in a migration of its own.
ALTER TYPE "UsageAction" ADD VALUE IF NOT EXISTS 'IMAGE';
ALTER TYPE "UsageAction" ADD VALUE IF NOT EXISTS 'TOOL';
ALTER TYPE "UsageAction" ADD VALUE IF NOT EXISTS 'EXPORT';
ALTER TYPE "UsageAction" ADD VALUE IF NOT EXISTS 'INDEXING';
