-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "cachedInputTokens" INTEGER,
ADD COLUMN     "clientKey" TEXT,
ADD COLUMN     "reasoning" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "reasoningTokens" INTEGER,
ADD COLUMN     "timeToFirstReasoningMs" INTEGER;

-- CreateIndex
CREATE UNIQUE INDEX "Message_clientKey_key" ON "Message"("clientKey");

