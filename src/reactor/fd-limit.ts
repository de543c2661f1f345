import { readdirSync, readFileSync } from 'node:fs';

/** Descriptors kept free for everything else a process opens: files, DNS, logs, IPC. */
export const FD_HEADROOM = 64;

/**
 * How many connections this process can hold before accept() would hit
 * EMFILE: the soft open-files limit, less what is open now, less headroom.
 * libuv never reports EMFILE on accept to JavaScript (it accepts and closes
 * with a reserve descriptor, and can spin a core if that reserve is gone),
 * so the transports refuse connections above this count themselves.
 * Undefined where /proc is not readable (not Linux): no cap then.
 */
export function connectionCapFromFdLimit(): number | undefined {
  try {
    const limits = readFileSync('/proc/self/limits', 'latin1');
    const line = limits.split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === undefined || soft === 'unlimited') return undefined;
    const open = readdirSync('/proc/self/fd').length;
    return Math.max(1, Number(soft) - open - FD_HEADROOM);
  } catch {
    return undefined;
  }
}
