import type pg from 'pg';

/**
 * PGlite runs PostgreSQL in one process with no autovacuum worker, so its
 * tables are never analyzed or vacuumed on their own: the planner keeps the
 * estimates of an empty table (a knowledge search over 100,000 chunks took
 * 270 ms instead of 20), and dead row versions of every streamed reply's text
 * flushes pile up. This does autovacuum's job on a timer, with autovacuum's
 * default thresholds, one table at a time.
 */
const ANALYZE_THRESHOLD = 50;
const ANALYZE_SCALE = 0.1;
const VACUUM_THRESHOLD = 50;
const VACUUM_SCALE = 0.2;

export interface MaintenanceLogger {
  info(details: object, message?: string): void;
  warn(details: object, message?: string): void;
}

export interface MaintenancePass {
  analyzed: string[];
  vacuumed: string[];
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Analyzes the tables that changed enough since their last analyze, and vacuums those with enough dead rows. */
export async function maintainTables(pool: pg.Pool): Promise<MaintenancePass> {
  const needsVacuum = `n_dead_tup > ${VACUUM_THRESHOLD} + ${VACUUM_SCALE} * n_live_tup`;
  const { rows } = await pool.query<{ schemaname: string; relname: string; vacuum: boolean }>(
    `SELECT schemaname, relname, ${needsVacuum} AS vacuum FROM pg_stat_user_tables
     WHERE n_mod_since_analyze > ${ANALYZE_THRESHOLD} + ${ANALYZE_SCALE} * n_live_tup OR ${needsVacuum}
     ORDER BY relname`,
  );
  const pass: MaintenancePass = { analyzed: [], vacuumed: [] };
  for (const row of rows) {
    const table = `${quoted(row.schemaname)}.${quoted(row.relname)}`;
    await pool.query(row.vacuum ? `VACUUM (ANALYZE) ${table}` : `ANALYZE ${table}`);
    pass.analyzed.push(row.relname);
    if (row.vacuum) pass.vacuumed.push(row.relname);
  }
  return pass;
}

/** Runs `maintainTables` every `intervalMs` (0: never), skipping a tick while a pass is under way; `stop` waits for it. */
export function startEmbeddedMaintenance(pool: pg.Pool, intervalMs: number, logger?: MaintenanceLogger) {
  let running: Promise<void> | undefined;
  const pass = () =>
    maintainTables(pool)
      .then((done) => {
        if (done.analyzed.length > 0) logger?.info(done, 'embedded database maintained');
      })
      .catch((error: unknown) => logger?.warn({ err: error }, 'embedded database maintenance failed'))
      .finally(() => {
        running = undefined;
      });
  const timer = intervalMs > 0 ? setInterval(() => (running ??= pass()), intervalMs) : undefined;
  timer?.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
