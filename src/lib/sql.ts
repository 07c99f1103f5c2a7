import { Prisma } from '../generated/prisma/client.js';

/** The current time as Prisma stores a DateTime: UTC wall time in a `timestamp(3)` column, whatever the session's time zone. */
export const sqlNow = () => Prisma.sql`CAST(${new Date().toISOString()} AS timestamp(3))`;
