import { getSystemErrorName } from 'node:util';

/** 'ECONNRESET' for -104, and so on; `errno N` for a number the platform does not name. */
export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(errno);
  } catch {
    return `errno ${errno}`;
  }
}

/** An Error shaped like Node's own system errors (code, errno, syscall). */
export function uvError(errno: number, syscall: string): Error {
  const code = errnoName(errno);
  return Object.assign(new Error(`${syscall}: ${code}`), { code, errno, syscall });
}
