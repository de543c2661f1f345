import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { generateKey } from '../../src/protocol/accept-key.js';
import { buildClientRequest, validateServerResponse } from '../../src/protocol/client-upgrade.js';
import { findHeadEnd } from '../../src/protocol/http-head-end.js';
import { encodeClientFrame } from './frames.js';
import { closeOf, decodeFrames, type WireFrame } from './wire-frames.js';

/**
 * A byte-level WebSocket client for tests: it sends exactly the bytes a test
 * asks for (split, malformed, one at a time) and records every frame the
 * server sends, so a test can assert the close code on the wire.
 */
export class RawClient {
  readonly socket: net.Socket;
  readonly frames: WireFrame[] = [];
  /** The HTTP response head (101 or an error), once received. */
  response = '';
  ended = false;
  /** The socket error, if the connection failed (e.g. ECONNRESET: the peer reset it). */
  error: (Error & { code?: string }) | undefined;
  /** Every byte received, for tests that look at the raw stream. */
  received = Buffer.alloc(0);
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  readonly key = generateKey();

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parse();
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', (error) => {
      this.error = error;
      this.ended = true;
      this.wake();
    });
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawClient(socket);
  }

  /** Connects and completes the opening handshake. */
  static async open(port: number, extraHeaders: Record<string, string> = {}, extensions?: string): Promise<RawClient> {
    const client = await RawClient.connect(port);
    client.write(client.request(extraHeaders, extensions));
    await client.until(() => client.response !== '', 'the 101');
    if (!client.response.startsWith('HTTP/1.1 101'))
      throw new Error(`handshake refused: ${client.response.split('\r\n')[0]}`);
    return client;
  }

  /** `extensions`: a Sec-WebSocket-Extensions offer; the server's answer is then in `extensions`. */
  request(extraHeaders: Record<string, string> = {}, extensions?: string): string {
    this.offered = extensions;
    return buildClientRequest({ host: '127.0.0.1', path: '/', key: this.key, extensions, headers: extraHeaders });
  }

  /** The Sec-WebSocket-Extensions of the 101, '' when none: RSV1 frames are decoded only then. */
  extensions = '';
  private offered: string | undefined;

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends `data` one byte per write, waiting a moment between so each is its own read. */
  async trickle(data: Buffer, delayEveryBytes = 1): Promise<void> {
    for (let i = 0; i < data.length; i++) {
      this.socket.write(data.subarray(i, i + 1));
      if (i % delayEveryBytes === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  frame(opcode: number, payload: Buffer | string = Buffer.alloc(0), fin = true): Buffer {
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    return encodeClientFrame(opcode, data, randomBytes(4).readUInt32BE(0), fin);
  }

  send(opcode: number, payload: Buffer | string = Buffer.alloc(0), fin = true): void {
    this.write(this.frame(opcode, payload, fin));
  }

  /** Waits until `count` frames have arrived. */
  async frameCount(count: number, ms = 5000): Promise<WireFrame[]> {
    await this.until(() => this.frames.length >= count, `${count} frames`, ms);
    return this.frames;
  }

  /** The close code the server sent, waiting for its Close frame. */
  async closeCode(ms = 5000): Promise<number> {
    await this.until(() => this.frames.some((f) => f.opcode === 8), 'a Close frame', ms);
    return closeOf(this.frames.find((f) => f.opcode === 8)!).code;
  }

  async endOfStream(ms = 5000): Promise<void> {
    await this.until(() => this.ended, 'the server to close the connection', ms);
  }

  destroy(): void {
    this.socket.destroy();
  }

  async until(check: () => boolean, what: string, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      if (this.ended && !check()) throw new Error(`connection ended while waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private parse(): void {
    if (this.response === '') {
      const headEnd = findHeadEnd(this.buffer, 0, this.buffer.length, 0);
      if (headEnd < 0) return;
      this.response = this.buffer.toString('latin1', 0, headEnd);
      if (this.response.startsWith('HTTP/1.1 101')) {
        const valid = validateServerResponse(this.buffer, 0, headEnd, { key: this.key, extensions: this.offered });
        if (!valid.ok) throw valid.error;
        this.extensions = valid.headers.get('sec-websocket-extensions') ?? '';
      }
      this.buffer = this.buffer.subarray(headEnd);
    }
    if (!this.response.startsWith('HTTP/1.1 101')) return; // an error response: its body is not frames
    this.buffer = this.buffer.subarray(decodeFrames(this.buffer, this.frames, false, this.extensions === '' ? 0 : 4));
  }
}
