// A ws:// → wss:// relay for the Autobahn|Testsuite kit, whose Python 2.7 build has no pyOpenSSL and
// so refuses wss:// URLs: wstest speaks plain ws:// to this relay, which opens one TLS connection
// (node:tls, TLS 1.3, the self-signed certificate not verified) per wstest connection to the server
// and copies bytes both ways unchanged. The TLS server under test is the real one; only the
// client's TLS is Node's instead of Python's.
//
// `--hold-ms N`: bytes wstest sends after the server's first answer (the 101) are held back N ms,
// so that the server sees an idle connection and moves it to the compact record layer before the
// case's frames arrive: without it most cases would run their frames on node:tls (a connection
// moves only once idle, 20 ms after its last activity).
//
//   node .ci/wss-relay.mjs --listen 9321 --target 127.0.0.1:9320 [--hold-ms 100]
// Prints `relay listening on PORT`, and on SIGTERM/SIGINT `relay: N connections` before exiting.
import net from 'node:net';
import tls from 'node:tls';
import { setTimeout } from 'node:timers';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    listen: { type: 'string', default: '0' },
    target: { type: 'string' },
    'hold-ms': { type: 'string', default: '100' },
  },
});
if (values.target === undefined || !/^[^:]+:\d+$/.test(values.target)) {
  process.stderr.write('usage: wss-relay.mjs --listen PORT --target HOST:PORT [--hold-ms N]\n');
  process.exit(2);
}
const [host, targetPort] = values.target.split(':');
const holdMs = Number(values['hold-ms']);
let connections = 0;

const relay = net.createServer((client) => {
  connections++;
  const server = tls.connect({
    host,
    port: Number(targetPort),
    rejectUnauthorized: false,
    minVersion: 'TLSv1.3',
  });
  // Until the server first answers, wstest's bytes (the upgrade request) go through at once; after
  // it, they wait until the hold ends, then everything flows unchanged.
  let answered = false;
  let held = null;
  client.on('data', (chunk) => {
    if (held !== null) held.push(chunk);
    else server.write(chunk);
  });
  server.on('data', (chunk) => {
    if (!answered) {
      answered = true;
      held = [];
      setTimeout(() => {
        for (const bytes of held) server.write(bytes);
        held = null;
      }, holdMs);
    }
    client.write(chunk);
  });
  client.on('end', () => (held === null ? server.end() : setTimeout(() => server.end(), holdMs)));
  server.on('end', () => client.end());
  const gone = () => {
    client.destroy();
    server.destroy();
  };
  client.on('error', gone);
  server.on('error', gone);
  client.on('close', () => setTimeout(gone, holdMs + 1000));
  server.on('close', gone);
});
relay.listen(Number(values.listen), '127.0.0.1', () => {
  process.stdout.write(`relay listening on ${relay.address().port}\n`);
});
const stop = () => {
  process.stdout.write(`relay: ${connections} connections\n`);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
