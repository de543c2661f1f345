/**
 * A single-process server for the handover tests: argv = transport, then a
 * JSON object of server options to add (perMessageDeflate, ...). Each
 * upgrade to '/slow' takes 400 ms. Each message `m` is answered (after 'flood:N': N messages of 16 KiB first) `${pid} ${n} ${m}`, n counting the connection's
 * messages in conn.data (which must survive a move); 'sub:T' subscribes to
 * T; CRASH_AFTER=k in the environment: the successor exits as it adopts its
 * k-th connection. Prints {"port","pid"} when listening (the successor prints it too, with
 * "successor": true and "pipe": whether its connections came down a pipe of the old process's
 * own, not Node's channel). stdin line 'handover' → the HandoverResult, then this
 * process closes and exits. HTTP, answered by whichever process serves the
 * port: /publish?t=T&x=X → {"published"}; anything else → {"connections","pid","adopted","inflated"}
 * (inflated: compressed messages this process inflated).
 */
import { createInterface } from 'node:readline';
import { createServer, type Server, type ServerOptions, type TransportName } from '../../src/index.js';

const extra = JSON.parse(process.argv[3] ?? '{}') as Partial<ServerOptions<{ n: number }>>;
const successor = process.env.LIGHTWS_HANDOVER === '1';
// Read before listen takes it: the old process gave us its end of a handover pipe.
const pipe = process.env.LIGHTWS_HANDOVER_FD !== undefined;
let adopted = 0;
let moved = 0;
const server: Server<{ n: number } | undefined> = createServer<{ n: number }>({
  logLevel: 'silent',
  transport: process.argv[2] as TransportName,
  // '/slow': the upgrade hook takes 400 ms (a connection still deciding when a handover begins).
  upgrade: (request) =>
    request.url === '/slow'
      ? new Promise((resolve) => setTimeout(() => resolve({ data: { n: 0 } }), 400))
      : { data: { n: 0 } },
  message(conn, data) {
    const text = data.toString();
    if (text.startsWith('sub:')) conn.subscribe(text.slice(4));
    // 'flood:N': N messages of 16 KiB, more than the kernel takes of a peer not reading.
    if (text.startsWith('flood:'))
      for (let i = 1; i <= Number(text.slice(6)); i++) conn.send(`flood ${i} ${'x'.repeat(16 * 1024)}`);
    const state = conn.data as { n: number };
    state.n++;
    conn.send(`${process.pid} ${state.n} ${text}`);
  },
  handover: {
    adopted: () => {
      // CRASH_AFTER=k: the successor dies as its k-th connection arrives (a handover that fails halfway).
      if (++adopted === Number(process.env.CRASH_AFTER) && successor) process.exit(3);
    },
    moved: () => void moved++,
  },
  // Asked over HTTP, so that whichever process serves the port answers.
  request(request): { body: string } {
    const url = new URL(request.url, 'http://x');
    if (url.pathname === '/publish')
      return {
        body: JSON.stringify({ published: server.publish(url.searchParams.get('t')!, url.searchParams.get('x')!) }),
      };
    const inflated = server.stats().deflate.messagesInflated;
    return { body: JSON.stringify({ connections: server.clients.size, pid: process.pid, adopted, inflated }) };
  },
  ...extra,
});
const reply = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
const address = await server.listen(0, '127.0.0.1');
reply({ port: address.port, pid: process.pid, successor, pipe });
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'handover') {
    lines.close();
    process.stdin.destroy(); // the successor reads stdin from now on: this one must not take its lines
    void server.handover({ timeoutMs: 10000 }).then(
      async (result) => {
        reply({ ...result, movedHook: moved });
        if (result.error !== undefined) return; // it failed: this process carries on
        await server.close({ timeoutMs: 2000 });
        process.exit(0);
      },
      (error: Error) => reply({ error: error.message }),
    );
  }
});
