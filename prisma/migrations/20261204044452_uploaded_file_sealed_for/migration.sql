-- AlterTable
ALTER TABLE "UploadedFile" ADD COLUMN     "sealedFor" TEXT;

