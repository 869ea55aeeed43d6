/** Bounding a wait: every wait in ringlog has a limit and a named timeout error. */
import { TimeoutError } from './errors.js';

/** `promise`, or a TimeoutError with `code` once timeoutMs has passed. The timer never outlives it. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, code: string, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(code, message, timeoutMs)), Math.max(0, timeoutMs));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
