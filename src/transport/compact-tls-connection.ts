import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { HandoffWatch } from '../tls/handoff.js';
import type { RecordLayer } from '../tls/record-layer.js';
import type { RawTcpHandle } from './raw-bindings.js';

/**
 * One connection of the compact TLS transport (`conn.handle`). While node:tls
 * runs it (the handshake, the HTTP upgrade), it holds the TLSSocket, the
 * pipe between it and the raw handle, and the watch that follows its
 * records; once moved, only the raw handle and the record layer: the
 * TLSSocket, its TLSWrap and OpenSSL's SSL object are gone.
 */
export class CompactTlsConnection {
  secure: TLSSocket | null = null;
  pipe: Duplex | null = null;
  watch: HandoffWatch | null = null;
  layer: RecordLayer | null = null;
  /** Pipe writes (node:tls's records) the kernel has not finished. */
  pipeWrites = 0;
  /** Handoff attempts left before the connection stays on node:tls for good. */
  attemptsLeft = 50;
  handoffTimer: NodeJS.Timeout | null = null;
  closed = false;

  constructor(readonly tcp: RawTcpHandle) {}

  /** Drops everything node:tls held; the raw handle stays open. */
  releaseTls(): void {
    const { secure, pipe } = this;
    this.secure = this.pipe = this.watch = null;
    if (this.handoffTimer !== null) clearTimeout(this.handoffTimer);
    this.handoffTimer = null;
    if (secure !== null) {
      // Its listeners stay: they check `tc.secure` and do nothing now, and node:tls's own 'close'
      // listener is what frees the SSL object at once (else only when the TLSWrap is collected).
      secure.on('error', () => {});
      secure.destroy();
    }
    if (pipe !== null) {
      pipe.removeAllListeners();
      pipe.on('error', () => {});
      pipe.destroy();
    }
  }
}
