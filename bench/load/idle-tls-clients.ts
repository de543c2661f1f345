/**
 * Load process for bench/idle-tls.ts: opens wss:// connections (TLS 1.3,
 * node:tls, a hand-written upgrade request) and keeps them idle. Reads
 * "open N" lines on stdin (open until N are up) and answers "opened N";
 * "echo C M" (bench:idle-tls --cpu): on the first C connections, M messages
 * each (32-byte binary, masked with a zero mask), 16 in flight per
 * connection, then answers "echoed TOTAL".
 */
import { createInterface } from 'node:readline';
import { connect, type TLSSocket } from 'node:tls';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, 'in-flight': { type: 'string', default: '64' } } });
const port = Number(values.port);
const IN_FLIGHT = Number(values['in-flight']);
const REQUEST =
  'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
const sockets: TLSSocket[] = [];
let opening = 0;

function openOne(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', rejectUnauthorized: false, minVersion: 'TLSv1.3' });
    socket.once('secureConnect', () => socket.write(REQUEST));
    socket.once('data', (data: Buffer) => {
      if (!data.toString('latin1').startsWith('HTTP/1.1 101')) return reject(new Error('no 101'));
      sockets.push(socket);
      resolve();
    });
    socket.once('error', reject);
  });
}

async function openUntil(total: number): Promise<void> {
  const workers = Array.from({ length: IN_FLIGHT }, async () => {
    while (sockets.length + opening < total) {
      opening++;
      try {
        await openOne();
      } finally {
        opening--;
      }
    }
  });
  await Promise.all(workers);
}

const PAYLOAD = 32;
// FIN + binary, MASK + 32, a zero mask (the payload goes as is), the payload.
const FRAME = Buffer.concat([Buffer.of(0x82, 0x80 | PAYLOAD, 0, 0, 0, 0), Buffer.alloc(PAYLOAD, 0x61)]);
const REPLY = 2 + PAYLOAD; // the server's frame: FIN + binary, 32, the payload
const WINDOW = 16;

function echo(connections: number, messages: number): Promise<number> {
  return Promise.all(
    sockets.slice(0, connections).map(
      (socket) =>
        new Promise<number>((resolve) => {
          let sent = 0;
          let bytes = 0;
          const send = (n: number): void => {
            const k = Math.min(n, messages - sent);
            if (k > 0) socket.write(Buffer.concat(Array.from({ length: k }, () => FRAME)));
            sent += k;
          };
          const onData = (data: Buffer): void => {
            const before = Math.floor(bytes / REPLY);
            bytes += data.length;
            const got = Math.floor(bytes / REPLY);
            if (got >= messages) {
              socket.off('data', onData);
              return resolve(got);
            }
            send(got - before);
          };
          socket.on('data', onData);
          send(WINDOW);
        }),
    ),
  ).then((counts) => counts.reduce((a, b) => a + b, 0));
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, a, b] = line.split(' ');
  if (command === 'echo') {
    void echo(Number(a), Number(b)).then((total) => process.stdout.write(`echoed ${total}\n`));
    return;
  }
  const total = Number(a);
  openUntil(total).then(
    () => process.stdout.write(`opened ${sockets.length}\n`),
    (error: Error) => process.stdout.write(`error ${error.message}\n`),
  );
});
