-- AlterEnum
ALTER TYPE "MessageStatus" ADD VALUE 'REQUIRES_ACTION';

-- AlterEnum
ALTER TYPE "UsageAction" ADD VALUE 'TOOL';

-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "toolSetup" JSONB;

