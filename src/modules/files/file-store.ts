import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, NotFound, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

/** Where file bytes live, addressed by their SHA-256 so identical uploads share one copy. */
export interface FileStore {
  put(sha256: string, bytes: Uint8Array): Promise<void>;
  get(sha256: string): Promise<Buffer>;
  delete(sha256: string): Promise<void>;
  has(sha256: string): Promise<boolean>;
  /** Resolves when the store can be reached (readiness). */
  ping(): Promise<void>;
}

/** One instance: a directory under DATA_DIR (an S3-compatible bucket serves several). */
export function createLocalFileStore(directory: string): FileStore {
  const pathOf = (sha256: string) => {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`Not a SHA-256: ${sha256}`);
    return path.join(directory, sha256.slice(0, 2), sha256);
  };
  return {
    async put(sha256, bytes) {
      const target = pathOf(sha256);
      await mkdir(path.dirname(target), { recursive: true });
      // Write then rename, so a reader never sees half a file.
      const temporary = `${target}.${process.pid}.${Date.now()}.partial`;
      await writeFile(temporary, bytes);
      await rename(temporary, target);
    },
    get: (sha256) => readFile(pathOf(sha256)),
    delete: (sha256) => rm(pathOf(sha256), { force: true }),
    has: (sha256) =>
      access(pathOf(sha256)).then(
        () => true,
        () => false,
      ),
    ping: async () => {
      await mkdir(directory, { recursive: true });
    },
  };
}

export interface S3StoreOptions {
  bucket: string;
  /** For S3-compatible services (MinIO, R2, ...); unset for AWS. */
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  /** Key prefix inside the bucket. */
  prefix?: string;
}

/** Several instances: an S3-compatible bucket every instance reads and writes. Credentials come from the AWS SDK's usual sources. */
export function createS3FileStore(options: S3StoreOptions): FileStore {
  const client = new S3Client({ endpoint: options.endpoint, region: options.region ?? 'us-east-1', forcePathStyle: options.forcePathStyle });
  const Bucket = options.bucket;
  const keyOf = (sha256: string) => {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`Not a SHA-256: ${sha256}`);
    return `${options.prefix ?? ''}${sha256.slice(0, 2)}/${sha256}`;
  };
  return {
    async put(sha256, bytes) {
      // A PUT is atomic: readers see the old object, or the whole new one.
      await client.send(new PutObjectCommand({ Bucket, Key: keyOf(sha256), Body: bytes, ContentLength: bytes.byteLength }));
    },
    async get(sha256) {
      const object = await client.send(new GetObjectCommand({ Bucket, Key: keyOf(sha256) }));
      return Buffer.from(await object.Body!.transformToByteArray());
    },
    async delete(sha256) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: keyOf(sha256) }));
    },
    async has(sha256) {
      try {
        await client.send(new HeadObjectCommand({ Bucket, Key: keyOf(sha256) }));
        return true;
      } catch (error) {
        if (error instanceof NotFound || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
        throw error;
      }
    },
    async ping() {
      await client.send(new HeadBucketCommand({ Bucket }));
    },
  };
}
