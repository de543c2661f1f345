import { uvError } from '../reactor/connection/errno.js';
import { checkPort, resolveHost, type ListenAddress } from './listen-address.js';
import type { RawBindings, RawTcpHandle } from './raw-bindings.js';

/**
 * Can sockets be bound with SO_REUSEPORT? Node passes libuv's
 * UV_TCP_REUSEPORT through tcp_wrap's bind from 22.12 and 23.1 on (Node 20
 * takes no flags and would ignore it, so its absence is the test). libuv
 * then answers ENOTSUP at bind time on systems whose SO_REUSEPORT does not
 * balance (anything but Linux 3.9+, FreeBSD 12+, DragonFly, Solaris 11.4, AIX 7.2.5).
 */
export function reusePortSupported(raw: RawBindings): boolean {
  return raw.REUSEPORT !== undefined;
}

/**
 * Binds a raw TCP server handle without listening: what `listen` starts
 * from, and the cluster primary's socket. With `reusePort`, several handles
 * (each cluster worker's own) may bind the same address and port, and the
 * kernel spreads incoming connections among those listening.
 */
export async function bindServerHandle(
  raw: RawBindings,
  port: number,
  host?: string,
  reusePort = false,
): Promise<RawTcpHandle> {
  checkPort(port);
  if (reusePort && raw.REUSEPORT === undefined)
    throw new Error(`SO_REUSEPORT needs Node 22.12 or later (this is ${process.version})`);
  const flags = reusePort ? raw.REUSEPORT! : 0;
  const resolved = await resolveHost(host);
  const handle = new raw.TCP(raw.SERVER);
  let err: number;
  if (resolved === undefined) {
    // All interfaces: dual-stack IPv6 if the machine has it, else IPv4 (as net.Server does).
    err = handle.bind6('::', port, flags);
    if (err !== 0) err = handle.bind('0.0.0.0', port, flags);
  } else {
    err =
      resolved.family === 6 ? handle.bind6(resolved.address, port, flags) : handle.bind(resolved.address, port, flags);
  }
  if (err !== 0) {
    handle.close();
    throw uvError(err, reusePort ? 'bind (SO_REUSEPORT)' : 'bind', `${resolved?.address ?? (host || '::')}:${port}`);
  }
  return handle;
}

/** Where a bound server handle listens, as `listen` reports it. */
export function boundAddress(handle: RawTcpHandle): ListenAddress {
  const out: Record<string, unknown> = {};
  handle.getsockname(out);
  return { address: String(out.address), port: Number(out.port), family: out.family === 'IPv6' ? 'IPv6' : 'IPv4' };
}
