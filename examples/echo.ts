// Echo: every message goes back to its sender, text as text and binary as binary.
//   node examples/echo.js (compiled)   PORT=9001 HOST=0.0.0.0 to choose where it listens
import { createServer } from 'lightws';

const server = createServer({
  message(conn, data, isBinary) {
    // `data` is borrowed (valid until this returns); sending it back is safe, without a copy when it can.
    conn.send(data, isBinary);
  },
});

const { port } = await server.listen(Number(process.env.PORT ?? 9001), process.env.HOST ?? '127.0.0.1');
console.log(`echo: listening on ws://127.0.0.1:${port}/`);

// Ctrl+C or a process manager's SIGTERM: every connection gets 1001, then the process exits.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void server.close({ timeoutMs: 5000 }).then(() => process.exit(0)));
