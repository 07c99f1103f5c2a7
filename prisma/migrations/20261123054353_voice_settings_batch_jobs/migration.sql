-- CreateEnum
CREATE TYPE "BatchStatus" AS ENUM ('QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "BatchRequestStatus" AS ENUM ('PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');

-- CreateTable
CREATE TABLE "VoiceSettings" (
    "userId" TEXT NOT NULL,
    "ttsProvider" TEXT NOT NULL,
    "voice" TEXT NOT NULL,
    "sttProvider" TEXT NOT NULL,
    "language" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "VoiceSettings_pkey" PRIMARY KEY ("userId")
);

-- CreateTable
CREATE TABLE "BatchJob" (
    "id" TEXT NOT NULL,
    "ownerId" TEXT NOT NULL,
    "billedUserId" TEXT NOT NULL,
    "apiKeyId" TEXT,
    "tier" "Tier" NOT NULL,
    "modelId" TEXT NOT NULL,
    "systemPrompt" TEXT,
    "status" "BatchStatus" NOT NULL DEFAULT 'QUEUED',
    "total" INTEGER NOT NULL,
    "completed" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "cost" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "claimedBy" TEXT,
    "heartbeatAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "BatchJob_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BatchRequest" (
    "id" TEXT NOT NULL,
    "jobId" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "customId" TEXT NOT NULL,
    "content" TEXT NOT NULL,
    "status" "BatchRequestStatus" NOT NULL DEFAULT 'PENDING',
    "response" TEXT,
    "inputTokens" INTEGER,
    "outputTokens" INTEGER,
    "cost" DOUBLE PRECISION,
    "errorCode" TEXT,
    "errorMessage" TEXT,
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "BatchRequest_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "BatchJob_ownerId_createdAt_idx" ON "BatchJob"("ownerId", "createdAt");

-- CreateIndex
CREATE INDEX "BatchJob_status_createdAt_idx" ON "BatchJob"("status", "createdAt");

-- CreateIndex
CREATE INDEX "BatchRequest_jobId_status_position_idx" ON "BatchRequest"("jobId", "status", "position");

-- CreateIndex
CREATE UNIQUE INDEX "BatchRequest_jobId_customId_key" ON "BatchRequest"("jobId", "customId");

-- AddForeignKey
ALTER TABLE "VoiceSettings" ADD CONSTRAINT "VoiceSettings_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BatchJob" ADD CONSTRAINT "BatchJob_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BatchRequest" ADD CONSTRAINT "BatchRequest_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "BatchJob"("id") ON DELETE CASCADE ON UPDATE CASCADE;

