/**
 * `items.map(fn)` with at most `limit` calls in flight, results in input order. Activities use it to ask several
 * DCs or hosts at once: a look at N machines then costs about the slowest answer rather than the sum of them,
 * without opening more remote sessions (WinRM, pwsh processes) at a time than the caller allows. After a call
 * fails no new one starts, and the first failure is what it throws.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>) {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return results;
}
