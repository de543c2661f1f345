// lightws inside an HTTP server you already have: node:http here; Express (`const http =
// app.listen(port)`) and Fastify (`fastify.server`) hand you the same node:http server, whose
// 'upgrade' event goes to server.handleUpgrade, as with ws's `noServer: true`.
import http from 'node:http';
import { createServer } from 'lightws';

// No upgrade hook gives every connection its data, so the handlers see `{ user } | undefined`.
const wss = createServer<{ user: string }>({
  message: (conn, data) => void conn.send(`${conn.data?.user ?? 'someone'} said ${data.toString()}`),
});

const app = http.createServer((_req, res) => res.end('plain HTTP is still yours\n'));
app.on('upgrade', (req, socket, head) => {
  // What your session middleware decides; here a header stands in for it.
  const user = req.headers['x-user'];
  if (typeof user !== 'string') {
    socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, { data: { user } });
});

const port = Number(process.env.PORT ?? 9001);
await new Promise<void>((resolve) => app.listen(port, process.env.HOST ?? '127.0.0.1', resolve));
const address = app.address();
console.log(`http-attach: listening on ws://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : port}/`);

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    app.close(); // stop accepting
    void wss.close({ timeoutMs: 5000 }).then(() => process.exit(0));
  });
