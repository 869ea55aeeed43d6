/**
 * Kafka's retry backoff (KIP-580): retry.backoff.ms doubling per attempt up to
 * retry.backoff.max.ms, with ±20% jitter so that clients that failed together do not retry together.
 */

/** The wait before attempt `attempt` (1 = the first retry): initialMs × 2^(attempt-1), at most maxMs. */
export function exponentialBackoffMs(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(0, attempt - 1), 30));
}

/** `ms` spread by ±20%. */
export function withJitter(ms: number): number {
  return ms * (0.8 + 0.4 * Math.random());
}
