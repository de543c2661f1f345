import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createSecureContext, TLSSocket } from 'node:tls';
import { HandoffWatch, type Handoff } from '../../src/tls/handoff.js';
import { RecordLayer } from '../../src/tls/record-layer.js';
import type { RecordFault } from '../../src/tls/record-protection.js';

const fixtures = new URL('../../../test/fixtures/', import.meta.url);
export const KEY = readFileSync(new URL('key.pem', fixtures));
export const CERT = readFileSync(new URL('cert.pem', fixtures));

/** One connection's life on the test server. */
export interface Session {
  handoff?: Handoff;
  layer?: RecordLayer;
  refused?: string;
  /** How the compact layer ended: the fault, or null for the peer's close_notify. */
  ended?: RecordFault | null;
  compactData: string;
}

/**
 * A TLS 1.3 server that runs node:tls over an observed pipe and moves to
 * the compact record layer when the peer sends a line "switch": before,
 * it answers "tls:<data>"; after, "compact:<data>" (and "switched\n" once).
 * The TLSSocket is destroyed at the handoff; from then on only the raw
 * socket and the RecordLayer carry the connection.
 */
export async function startHandoffServer(): Promise<{ port: number; sessions: Session[]; close(): Promise<void> }> {
  const sessions: Session[] = [];
  const context = createSecureContext({ key: KEY, cert: CERT, minVersion: 'TLSv1.2' });
  const sockets = new Set<Socket>();
  const server: Server = createServer((raw) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    raw.on('error', () => {});
    const session: Session = { compactData: '' };
    sessions.push(session);
    const watch = new HandoffWatch('server');
    let compact: RecordLayer | undefined;
    let detached = false;
    const pipe = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        if (detached) return callback();
        watch.sent(chunk);
        raw.write(chunk, callback);
      },
    });
    raw.on('data', (chunk: Buffer) => {
      if (compact !== undefined) return compact.receive(chunk);
      watch.received(chunk);
      pipe.push(chunk);
    });
    raw.on('end', () => pipe.push(null));
    const secure = new TLSSocket(pipe, { isServer: true, secureContext: context });
    secure.on('error', () => {});
    secure.on('keylog', (line: Buffer) => watch.keylog(line));
    secure.on('secure', () => watch.secured(secure.getProtocol(), secure.getCipher()?.standardName));
    const handoff = (): void => {
      if (secure.writableLength > 0 || pipe.writableLength > 0 || raw.writableLength > 0)
        return void setTimeout(handoff, 1);
      const state = watch.handoff();
      if (typeof state === 'string') {
        session.refused = state;
        secure.write('refused:' + state + '\n');
        return;
      }
      session.handoff = state;
      detached = true;
      secure.destroy();
      compact = new RecordLayer(state.suite, 'server', state.read, state.write, {
        data(content) {
          session.compactData += content.toString();
          raw.write(compact!.seal(Buffer.concat([Buffer.from('compact:'), content])));
        },
        transmit(records) {
          raw.write(records);
        },
        end(fault) {
          session.ended = fault ?? null;
          raw.end();
        },
      });
      session.layer = compact;
      raw.write(compact.seal(Buffer.from('switched\n')));
    };
    secure.on('data', (data: Buffer) => {
      if (data.toString().includes('switch')) setImmediate(handoff);
      else secure.write(Buffer.concat([Buffer.from('tls:'), data]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
