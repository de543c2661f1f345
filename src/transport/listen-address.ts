import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** Where a server listens, as reported back to the caller. */
export interface ListenAddress {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** Turns a host name into an address to bind; an IP literal is used as is. */
export async function resolveHost(host: string | undefined): Promise<{ address: string; family: 4 | 6 } | undefined> {
  if (host === undefined || host === '') return undefined; // all interfaces
  const family = isIP(host);
  if (family !== 0) return { address: host, family: family as 4 | 6 };
  const found = await lookup(host);
  return { address: found.address, family: found.family as 4 | 6 };
}

export function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new RangeError(`port must be an integer from 0 to 65535, not ${port}`);
}
