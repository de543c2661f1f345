import { RecordLayer, type DirectionState, type RecordLayerSink } from '../../src/tls/record-layer.js';
import type { CipherSuite } from '../../src/tls/cipher-suite.js';
import type { RecordFault } from '../../src/tls/record-protection.js';

/** What a RecordLayer gave its sink, in order. */
export class Recorder implements RecordLayerSink {
  readonly received: Buffer[] = [];
  readonly transmitted: Buffer[] = [];
  ended: { fault: RecordFault | undefined } | undefined;
  data(content: Buffer): void {
    this.received.push(content);
  }
  transmit(records: Buffer): void {
    this.transmitted.push(records);
  }
  end(fault?: RecordFault): void {
    if (this.ended !== undefined) throw new Error('end called twice');
    this.ended = { fault };
  }
  get text(): string {
    return Buffer.concat(this.received).toString();
  }
  /** Takes what was transmitted so far. */
  drain(): Buffer {
    const all = Buffer.concat(this.transmitted);
    this.transmitted.length = 0;
    return all;
  }
}

/** A server layer and a client layer whose secrets match, each with its recorder. */
export function layerPair(
  suite: CipherSuite,
  clientSecret: Buffer,
  serverSecret: Buffer,
  seq: { client?: number; server?: number } = {},
): { server: RecordLayer; client: RecordLayer; atServer: Recorder; atClient: Recorder } {
  const c: DirectionState = { secret: clientSecret, seq: seq.client ?? 0 };
  const s: DirectionState = { secret: serverSecret, seq: seq.server ?? 0 };
  const atServer = new Recorder();
  const atClient = new Recorder();
  return {
    server: new RecordLayer(suite, 'server', c, s, atServer),
    client: new RecordLayer(suite, 'client', s, c, atClient),
    atServer,
    atClient,
  };
}
