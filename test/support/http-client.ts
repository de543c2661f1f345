import net from 'node:net';

/** One HTTP response as it came over the wire. */
export interface RawResponse {
  status: number;
  /** Lower-case names. */
  headers: Map<string, string>;
  body: Buffer;
  /** The head as sent, for exact checks. */
  head: string;
}

/**
 * A byte-level HTTP/1.1 client for tests: it writes exactly what a test
 * asks for (pipelined, trickled, malformed) and reads responses one after
 * another by their Content-Length, so keep-alive and ordering can be
 * asserted. `expectNoBody` is for responses to HEAD (a Content-Length, no body).
 */
export class HttpRawClient {
  readonly socket: net.Socket;
  readonly responses: RawResponse[] = [];
  ended = false;
  error: Error | undefined;
  private buffer = Buffer.alloc(0);
  private readonly bodiless: boolean[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    socket.on('end', () => void (this.ended = true));
    socket.on('close', () => void (this.ended = true));
    socket.on('error', (error) => {
      this.error = error;
      this.ended = true;
    });
  }

  static async connect(port: number): Promise<HttpRawClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new HttpRawClient(socket);
  }

  /** Writes raw bytes; `bodiless` marks how many responses to expect without a body (HEAD). */
  write(data: string | Buffer, ...bodiless: boolean[]): void {
    this.bodiless.push(...bodiless);
    this.socket.write(data);
  }

  /** A GET (or `method`) with Host, plus extra header lines. */
  send(method: string, path: string, headers: Record<string, string> = {}, body = ''): void {
    const lines = [
      `${method} ${path} HTTP/1.1`,
      'Host: 127.0.0.1',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    if (body !== '') lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    this.write(`${lines.join('\r\n')}\r\n\r\n${body}`, method === 'HEAD');
  }

  async next(count = this.responses.length + 1, ms = 5000): Promise<RawResponse> {
    await this.until(() => this.responses.length >= count, `${count} responses`, ms);
    return this.responses[count - 1]!;
  }

  async closed(ms = 5000): Promise<void> {
    await this.until(() => this.ended, 'the server to close the connection', ms);
  }

  async until(check: () => boolean, what: string, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      if (this.ended && !check()) throw new Error(`connection ended while waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private parse(): void {
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buffer.toString('latin1', 0, end + 4);
      const [statusLine, ...lines] = head.slice(0, -4).split('\r\n');
      const headers = new Map(
        lines.map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as [string, string];
        }),
      );
      const status = Number(statusLine!.split(' ')[1]);
      // Interim responses (100 Continue) have no body and do not count against a request.
      const interim = status >= 100 && status < 200;
      const noBody = interim || status === 204 || status === 304 || (this.bodiless[0] ?? false);
      const length = noBody ? 0 : Number(headers.get('content-length') ?? 0);
      if (this.buffer.length < end + 4 + length) return;
      if (!interim) this.bodiless.shift();
      this.responses.push({
        status,
        headers,
        body: Buffer.from(this.buffer.subarray(end + 4, end + 4 + length)),
        head,
      });
      this.buffer = this.buffer.subarray(end + 4 + length);
    }
  }
}
