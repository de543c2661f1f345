/**
 * Source addresses and ports for the load processes' connections. Every connection of a run gets
 * an (address, port) never used before in that run: the TIME_WAITs left by earlier rounds never
 * collide with a new connection, and the kernel's free-port search (global across addresses,
 * linear in the ports bound: 20k connects/s falling to 850/s near 18k bound sockets here) is
 * never used. bench:million has its own scheme (load/million-clients.ts): fixed blocks per load
 * process, so that its limits check can name them.
 */

/** Picked once per orchestrator run: a fresh 127.<a>.*.* region, away from other benchmarks' blocks. */
const RUN_OCTET = 16 + Math.floor(Math.random() * 224);

/** The '127.a.b' block of the index-th (round, load process) of this run: 254 addresses × 64k ports. */
export function sourceBlock(index: number): string {
  return `127.${(RUN_OCTET + (index >> 8)) % 256}.${index & 255}`;
}

/**
 * Hands out (address, port) pairs from <block>.1..254, ports 1024..65535 on each: ~16M per load
 * process per round.
 */
export class SourcePorts {
  private host = 1;
  private port = 1024;
  constructor(private readonly prefix: string) {}
  next(): { localAddress: string; localPort: number } {
    if (this.port > 65_535) {
      this.port = 1024;
      if (++this.host > 254) throw new Error(`source addresses ${this.prefix}.* exhausted`);
    }
    return { localAddress: `${this.prefix}.${this.host}`, localPort: this.port++ };
  }
}
