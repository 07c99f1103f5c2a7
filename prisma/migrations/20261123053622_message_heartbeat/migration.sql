-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "heartbeatAt" TIMESTAMP(3);

