import { failure, type HandshakeFailure } from './handshake-failure.js';
import type { HeaderSink } from './http-head.js';

/**
 * The header fields the opening handshake's rules read (RFC 6455 §4.2.1),
 * and nothing else. A browser's upgrade request carries a dozen fields
 * (User-Agent, Accept-Language, Cookie, ...) that no rule looks at: this
 * sink keeps none of them, so validating a head slices and lower-cases
 * only the values below. The request's `headers` Map is built from the
 * decoded head later, if anyone reads it.
 *
 * Names are matched ASCII case-insensitively in place: they are tokens
 * (checked by the scanner), so folding with `| 0x20` only ever maps an
 * upper-case letter to its lower-case one.
 */
export interface UpgradeFieldValues {
  host: string | undefined;
  origin: string | undefined;
  /** Repeated lines joined with `', '`, as the Map would hold them. */
  upgrade: string | undefined;
  connection: string | undefined;
  /** Sec-WebSocket-Version is exactly `13`. */
  version13: boolean;
  key: string | undefined;
  protocol: string | undefined;
  extensions: string | undefined;
  /** Transfer-Encoding present, or a Content-Length other than `0` (RFC 7230 §3.3). */
  hasBody: boolean;
}

/** Does `s[from, from + lower.length)` equal `lower` (lower case), ASCII letters folded? */
function nameIs(s: string, from: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    if ((s.charCodeAt(from + k) | 0x20) !== lower.charCodeAt(k)) return false;
  }
  return true;
}

function joined(previous: string | undefined, value: string): string {
  return previous === undefined ? value : `${previous}, ${value}`;
}

/** Scans into itself; reset before each head (the scan is synchronous, so one instance serves every parse). */
export class UpgradeFieldSink implements HeaderSink, UpgradeFieldValues {
  host: string | undefined = undefined;
  origin: string | undefined = undefined;
  upgrade: string | undefined = undefined;
  connection: string | undefined = undefined;
  version13 = false;
  key: string | undefined = undefined;
  protocol: string | undefined = undefined;
  extensions: string | undefined = undefined;
  hasBody = false;
  /** Singletons seen so far (bits), so that a repeat is refused as the Map-based parse refused it. */
  private seen = 0;

  reset(): this {
    this.host = this.origin = this.upgrade = this.connection = this.key = this.protocol = this.extensions = undefined;
    this.version13 = this.hasBody = false;
    this.seen = 0;
    return this;
  }

  field(
    s: string,
    nameStart: number,
    nameEnd: number,
    valueStart: number,
    valueEnd: number,
  ): HandshakeFailure | undefined {
    // Dispatch on the name's length first: most fields of a real head match none of these.
    switch (nameEnd - nameStart) {
      case 4:
        if (!nameIs(s, nameStart, 'host')) return undefined;
        if (!this.once(1)) return failure(400, 'repeated host header');
        this.host = s.slice(valueStart, valueEnd);
        return undefined;
      case 6:
        if (!nameIs(s, nameStart, 'origin')) return undefined;
        if (!this.once(2)) return failure(400, 'repeated origin header');
        this.origin = s.slice(valueStart, valueEnd);
        return undefined;
      case 7:
        if (nameIs(s, nameStart, 'upgrade')) this.upgrade = joined(this.upgrade, s.slice(valueStart, valueEnd));
        return undefined;
      case 10:
        if (nameIs(s, nameStart, 'connection'))
          this.connection = joined(this.connection, s.slice(valueStart, valueEnd));
        return undefined;
      case 14:
        if (!nameIs(s, nameStart, 'content-length')) return undefined;
        if (!this.once(4)) return failure(400, 'repeated content-length header');
        if (valueEnd - valueStart !== 1 || s.charCodeAt(valueStart) !== 0x30) this.hasBody = true;
        return undefined;
      case 17:
        if (nameIs(s, nameStart, 'sec-websocket-key')) {
          if (!this.once(8)) return failure(400, 'repeated sec-websocket-key header');
          this.key = s.slice(valueStart, valueEnd);
        } else if (nameIs(s, nameStart, 'transfer-encoding')) {
          this.hasBody = true;
        }
        return undefined;
      case 21:
        if (!nameIs(s, nameStart, 'sec-websocket-version')) return undefined;
        if (!this.once(16)) return failure(400, 'repeated sec-websocket-version header');
        this.version13 =
          valueEnd - valueStart === 2 && s.charCodeAt(valueStart) === 0x31 && s.charCodeAt(valueStart + 1) === 0x33;
        return undefined;
      case 22:
        if (nameIs(s, nameStart, 'sec-websocket-protocol'))
          this.protocol = joined(this.protocol, s.slice(valueStart, valueEnd));
        return undefined;
      case 24:
        if (nameIs(s, nameStart, 'sec-websocket-extensions'))
          this.extensions = joined(this.extensions, s.slice(valueStart, valueEnd));
        return undefined;
      default:
        return undefined;
    }
  }

  /** Marks a singleton seen; false if it was already. */
  private once(bit: number): boolean {
    if ((this.seen & bit) !== 0) return false;
    this.seen |= bit;
    return true;
  }
}

/** The same values from a Map of every field (a head node:http parsed). */
export function upgradeFieldsOf(headers: ReadonlyMap<string, string>): UpgradeFieldValues {
  const contentLength = headers.get('content-length');
  return {
    host: headers.get('host'),
    origin: headers.get('origin'),
    upgrade: headers.get('upgrade'),
    connection: headers.get('connection'),
    version13: headers.get('sec-websocket-version') === '13',
    key: headers.get('sec-websocket-key'),
    protocol: headers.get('sec-websocket-protocol'),
    extensions: headers.get('sec-websocket-extensions'),
    hasBody: headers.has('transfer-encoding') || (contentLength !== undefined && contentLength !== '0'),
  };
}
