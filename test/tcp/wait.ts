/** Polls `check` every few ms until it returns true; throws after timeoutMs with `what`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits for a log line with message `msg` (worker lines reach the logger a little after the fact) and returns it. */
export async function logged<T extends { msg: string }>(lines: readonly T[], msg: string, timeoutMs = 15_000): Promise<T> {
  await until(`a log line '${msg}'`, () => lines.some((l) => l.msg === msg), timeoutMs);
  return lines.find((l) => l.msg === msg)!;
}
