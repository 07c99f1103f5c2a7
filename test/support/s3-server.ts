import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

export interface S3Server {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Objects stored in the bucket right now. */
  objectCount(): Promise<number>;
  close(): Promise<void>;
}

/** An S3-compatible server on a loopback port (s3rver), with one empty bucket. */
export async function startS3Server(bucket = 'gateway-files'): Promise<S3Server> {
  const directory = await mkdtemp(path.join(tmpdir(), 'gateway-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = (await server.run()) as { port: number };
  const objectsIn = async (folder: string): Promise<number> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    let count = 0;
    for (const entry of entries) {
      if (entry.isDirectory()) count += await objectsIn(path.join(folder, entry.name));
      else if (entry.name.endsWith('._S3rver_object')) count += 1;
    }
    return count;
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    objectCount: () => objectsIn(path.join(directory, bucket)),
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
