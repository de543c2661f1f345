/**
 * Load process for bench/idle-tls.ts: opens wss:// connections (TLS 1.3,
 * node:tls, a hand-written upgrade request) and keeps them idle. Reads
 * "open N" lines on stdin (open until N are up) and answers "opened N".
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

createInterface({ input: process.stdin }).on('line', (line) => {
  const total = Number(line.split(' ')[1]);
  openUntil(total).then(
    () => process.stdout.write(`opened ${sockets.length}\n`),
    (error: Error) => process.stdout.write(`error ${error.message}\n`),
  );
});
