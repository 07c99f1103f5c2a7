/**
 * graphql-sse keeps a reserved stream until it is opened, with no expiry, and a
 * reservation needs no credential. This bounds them: at most `max` unopened
 * reservations per instance, each dropped when not opened within `ttlMs`.
 */
export interface SseReservations {
  isFull(): boolean;
  reserved(token: string): void;
  opened(token: string): void;
  close(): void;
}

export function createSseReservations(options: { ttlMs: number; max: number; drop: (token: string) => void }): SseReservations {
  const unopened = new Map<string, NodeJS.Timeout>();
  return {
    isFull: () => unopened.size >= options.max,
    reserved(token) {
      const timer = setTimeout(() => {
        unopened.delete(token);
        options.drop(token);
      }, options.ttlMs);
      timer.unref();
      unopened.set(token, timer);
    },
    opened(token) {
      clearTimeout(unopened.get(token));
      unopened.delete(token);
    },
    close() {
      for (const timer of unopened.values()) clearTimeout(timer);
      unopened.clear();
    },
  };
}
