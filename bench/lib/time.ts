/** Waiting, and a clock every process of a run shares. */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Milliseconds on one scale in every process: timeOrigin + now is monotonic within a process and
 * starts from the wall clock, so times from two processes compare (to within their offset,
 * which bench:broadcast measures by ping-pong).
 */
export const clock = (): number => performance.timeOrigin + performance.now();

