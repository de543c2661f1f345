/**
 * A single-process server for the handover tests: argv = transport, then a
 * JSON object of server options to add (perMessageDeflate, ...). Each
 * message `m` is answered `${pid} ${n} ${m}`, n counting the connection's
 * messages in conn.data (which must survive a move); 'sub:T' subscribes to
 * T. Prints {"port","pid"} when listening (the successor prints it too, with
 * "successor": true). stdin line 'handover' → the HandoverResult, then this
 * process closes and exits. HTTP, answered by whichever process serves the
 * port: /publish?t=T&x=X → {"published"}; anything else → {"connections","pid","adopted"}.
 */
import { createInterface } from 'node:readline';
import { createServer, type Server, type ServerOptions } from '../../src/index.js';

const extra = JSON.parse(process.argv[3] ?? '{}') as Partial<ServerOptions<{ n: number }>>;
const successor = process.env.LIGHTWS_HANDOVER === '1';
let adopted = 0;
let moved = 0;
const server: Server<{ n: number } | undefined> = createServer<{ n: number }>({
  logLevel: 'silent',
  transport: process.argv[2] as 'handle' | 'socket',
  upgrade: () => ({ data: { n: 0 } }),
  message(conn, data) {
    const text = data.toString();
    if (text.startsWith('sub:')) conn.subscribe(text.slice(4));
    const state = conn.data as { n: number };
    state.n++;
    conn.send(`${process.pid} ${state.n} ${text}`);
  },
  handover: { adopted: () => void adopted++, moved: () => void moved++ },
  // Asked over HTTP, so that whichever process serves the port answers.
  request(request): { body: string } {
    const url = new URL(request.url, 'http://x');
    if (url.pathname === '/publish')
      return { body: JSON.stringify({ published: server.publish(url.searchParams.get('t')!, url.searchParams.get('x')!) }) };
    return { body: JSON.stringify({ connections: server.clients.size, pid: process.pid, adopted }) };
  },
  ...extra,
});
const reply = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
const address = await server.listen(0, '127.0.0.1');
reply({ port: address.port, pid: process.pid, successor });
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'handover') {
    lines.close();
    process.stdin.destroy(); // the successor reads stdin from now on: this one must not take its lines
    void server.handover({ timeoutMs: 10000 }).then(
      async (result) => {
        reply({ ...result, movedHook: moved });
        await server.close({ timeoutMs: 2000 });
        process.exit(0);
      },
      (error: Error) => reply({ error: error.message }),
    );
  }
});
