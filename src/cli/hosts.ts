import { isIP } from 'node:net';

/**
 * The CLI's `allowedHosts`. Bound to loopback, the server is meant for this
 * machine, and a browser on it reaches it as the bound address or as
 * `localhost`: any other name in a Host header is a page that made its own
 * name resolve to 127.0.0.1 (DNS rebinding), refused with 421. Bound to all
 * interfaces or to another address, the names the server is reached by are
 * not known here: any, unless `--allow-host` lists them.
 *
 * `flag`: `--allow-host`, a comma-separated list of names, or `*` for any;
 * undefined when not given. Returns undefined for "any host".
 */
export function allowedHostsFor(
  host: string | undefined,
  flag: string | undefined,
  fail: (message: string) => never,
): string[] | undefined {
  if (flag !== undefined) {
    const list = flag
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    if (list.length === 0) fail('--allow-host needs * or a list of host names');
    for (const name of list)
      if (!/^[^\s/@]+$/.test(name)) fail(`--allow-host: ${name} is not a host name (localhost, 127.0.0.1, [::1])`);
    return list.includes('*') ? undefined : list;
  }
  if (host === undefined) return undefined;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === 'localhost') return ['localhost', '127.0.0.1', '[::1]'];
  if (!isLoopback(bare)) return undefined;
  return [isIP(bare) === 6 ? `[${bare}]` : bare, 'localhost'];
}

/** 127.0.0.0/8 and ::1 (also written as an IPv4-mapped address). */
function isLoopback(address: string): boolean {
  const v4 = address.toLowerCase().replace(/^::ffff:/, '');
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return isIP(address) === 6 && /^(0{0,4}:){2,7}0{0,3}1$|^::1$/i.test(address);
}
