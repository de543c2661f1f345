import { getSystemErrorMap, getSystemErrorName } from 'node:util';

/** 'ECONNRESET' for -104, and so on; `errno N` for a number the platform does not name. */
export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(errno);
  } catch {
    return `errno ${errno}`;
  }
}

/**
 * An Error shaped like Node's own system errors (code, errno, syscall, and
 * the address when there is one): with an address, the message is Node's
 * too, `listen EADDRINUSE: address already in use 127.0.0.1:9001`, so that
 * both transports say the same thing about the same failure.
 */
export function uvError(errno: number, syscall: string, address?: string): Error {
  const code = errnoName(errno);
  if (address === undefined) return Object.assign(new Error(`${syscall}: ${code}`), { code, errno, syscall });
  const description = getSystemErrorMap().get(errno)?.[1] ?? code;
  return Object.assign(new Error(`${syscall} ${code}: ${description} ${address}`), { code, errno, syscall, address });
}
