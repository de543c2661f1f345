import { APPLICATION_SECRET_LABEL, EARLY_SECRET_LABEL, parseKeylogLine } from './keylog.js';
import { cipherSuiteNamed, type CipherSuite } from './cipher-suite.js';
import type { DirectionState } from './record-layer.js';
import { RecordObserver } from './record-observer.js';
import type { StayReason } from './stay-reason.js';

/** The key log lines a watch reads: the application secrets, and the early one that refuses the move. */
const WATCHED_LABELS: ReadonlySet<string> = new Set([
  APPLICATION_SECRET_LABEL.client,
  APPLICATION_SECRET_LABEL.server,
  EARLY_SECRET_LABEL,
]);

/** Everything a RecordLayer needs to take a connection over from node:tls. */
export interface Handoff {
  readonly suite: CipherSuite;
  readonly read: DirectionState;
  readonly write: DirectionState;
}

/**
 * One connection's path from node:tls to the compact record layer: it
 * hears the key log, sees every byte both ways while OpenSSL runs the
 * connection, and says when, and with what state, the compact layer can
 * take over (`handoff`), or why not. Whoever holds it must also know that
 * node:tls itself has nothing buffered (no pending write, nothing read
 * and not yet delivered): that is outside what the bytes show.
 */
export class HandoffWatch {
  private readonly secrets = new Map<string, Buffer>();
  private readonly incoming = new RecordObserver();
  private readonly outgoing = new RecordObserver();
  private suite: CipherSuite | undefined;
  private refusal: string | undefined;
  private refusalKind: StayReason | undefined;

  constructor(private readonly role: 'server' | 'client') {}

  /** A `keylog` event's line. */
  keylog(line: Buffer | string): void {
    const entry = parseKeylogLine(line, WATCHED_LABELS);
    if (entry === undefined) return;
    if (entry.label === EARLY_SECRET_LABEL) this.refuse('earlyData', '0-RTT was attempted');
    this.secrets.set(entry.label, entry.secret);
  }

  /** Bytes the peer sent, before node:tls reads them. */
  received(bytes: Uint8Array): void {
    this.incoming.observe(bytes);
  }

  /** Bytes node:tls sent to the peer. */
  sent(bytes: Uint8Array): void {
    this.outgoing.observe(bytes);
  }

  /**
   * The handshake is done: the negotiated protocol and suite (as
   * TLSSocket.getProtocol() and getCipher().standardName give them).
   */
  secured(protocol: string | null, suiteName: string | undefined): void {
    if (protocol !== 'TLSv1.3') return this.refuse('protocol', `protocol ${protocol ?? 'unknown'}`);
    const suite = suiteName === undefined ? undefined : cipherSuiteNamed(suiteName);
    if (suite === undefined) return this.refuse('suite', `suite ${suiteName ?? 'unknown'}`);
    const peer = this.secrets.get(
      this.role === 'server' ? APPLICATION_SECRET_LABEL.client : APPLICATION_SECRET_LABEL.server,
    );
    const own = this.secrets.get(
      this.role === 'server' ? APPLICATION_SECRET_LABEL.server : APPLICATION_SECRET_LABEL.client,
    );
    if (peer === undefined || own === undefined)
      return this.refuse('untracked', 'no application secrets in the key log');
    if (peer.length !== suite.hashLength || own.length !== suite.hashLength) {
      return this.refuse('untracked', 'secrets of the wrong length for the suite');
    }
    this.suite = suite;
    this.incoming.begin(suite, peer);
    this.outgoing.begin(suite, own);
    this.secrets.clear();
  }

  /** The first refusal is the one kept. */
  private refuse(kind: StayReason, reason: string): void {
    if (this.refusal !== undefined) return;
    this.refusal = reason;
    this.refusalKind = kind;
  }

  /** `refused`, as one of STAY_REASONS (records it lost count of: 'untracked'). */
  get refusedKind(): StayReason | undefined {
    return this.refusalKind ?? (this.refused === undefined ? undefined : 'untracked');
  }

  /** Why this connection can never move (it stays on node:tls), if so. */
  get refused(): string | undefined {
    return this.refusal ?? this.incoming.lost ?? this.outgoing.lost;
  }

  /**
   * The state to hand over, or a reason it cannot be now: `refused` says
   * whether it ever can; otherwise a record is still half seen and a later
   * call may succeed.
   */
  handoff(): Handoff | string {
    const refused = this.refused;
    if (refused !== undefined) return refused;
    if (this.suite === undefined) return 'the handshake is not done';
    if (!this.incoming.atBoundary || !this.outgoing.atBoundary) return 'a record is in flight';
    const read = this.incoming.state;
    const write = this.outgoing.state;
    if (read === undefined || write === undefined) return 'no traffic state';
    return { suite: this.suite, read, write };
  }
}
