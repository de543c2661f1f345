/** Waiting, and a clock every process of a run shares. */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Milliseconds on one scale in every process: timeOrigin + now is monotonic within a process and
 * starts from the wall clock, so times from two processes compare (to within their offset,
 * which bench:broadcast measures by ping-pong).
 */
export const clock = (): number => performance.timeOrigin + performance.now();

/**
 * Another process's clock minus ours, in ms, from the ping-pong with the smallest round trip (NTP's
 * idea, over IPC): `ping` asks the process for its clock() and resolves with it.
 */
export async function clockOffset(ping: () => Promise<number>, pings = 15): Promise<{ offset: number; rttMs: number }> {
  let best = { offset: 0, rttMs: Infinity };
  for (let i = 0; i < pings; i++) {
    const t0 = clock();
    const at = await ping();
    const t1 = clock();
    if (t1 - t0 < best.rttMs) best = { offset: at - (t0 + t1) / 2, rttMs: t1 - t0 };
  }
  return best;
}
