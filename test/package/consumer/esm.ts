// A consumer project's ESM file, compiled by the packed-tarball test (test/package/consumer.test.ts)
// with TypeScript 5.x and 7.x under strict, exactOptionalPropertyTypes and noUncheckedIndexedAccess,
// then run. It imports the package by its name, as a user's code does.
import {
  createClient,
  createServer,
  route,
  SendResult,
  type Connection,
  type HandshakeRequest,
  type Server,
} from 'lightws';
import * as lightws from 'lightws';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | undefined {
  return undefined;
}

// The public Connection: its members, and nothing of the reactor's.
expectType<
  Equal<
    keyof Connection,
    | 'data'
    | 'isOpen'
    | 'bufferedAmount'
    | 'protocol'
    | 'remoteAddress'
    | 'transport'
    | 'send'
    | 'ping'
    | 'pong'
    | 'close'
    | 'terminate'
    | 'subscribe'
    | 'unsubscribe'
    | 'isSubscribed'
    | 'publish'
    | 'pause'
    | 'resume'
  >
>();
function internals(conn: Connection): void {
  // @ts-expect-error not public
  void conn.flags;
  // @ts-expect-error not public
  void conn.index;
  // @ts-expect-error not public
  void conn.handle;
  // @ts-expect-error not public
  void conn.deadline;
  // @ts-expect-error not public
  void conn.wheelTick;
  // @ts-expect-error not public
  void conn.extras;
  // @ts-expect-error not public
  void conn.link;
  // @ts-expect-error not public
  void conn.ops;
  // @ts-expect-error read-only
  conn.isOpen = false;
}
void internals;
// @ts-expect-error the server's reactor is private
export const hidden = (server: Server) => server.reactor;

// conn.data: UserData when the upgrade hook gives every connection data...
const guaranteed = createServer({
  upgrade: (request: HandshakeRequest) =>
    request.url === '/no' ? { reject: 401, message: undefined } : { data: { user: request.url } },
  message(conn) {
    void conn.data.user.toUpperCase();
  },
});
expectType<Equal<typeof guaranteed, Server<{ user: string }>>>();
// ... else UserData | undefined, as it is at run time until something sets it.
createServer<{ user: string }>({
  open(conn) {
    // @ts-expect-error conn.data may be undefined: nothing guarantees it
    void conn.data.user;
    void conn.data?.user;
  },
});
// Options left undefined are fine under exactOptionalPropertyTypes (a config object often has them).
const config: { maxMessageSize?: number | undefined; logLevel?: 'silent' | undefined } = {
  maxMessageSize: undefined,
  logLevel: 'silent',
};
const routed = createServer({
  ...config,
  routes: [
    route('/echo', { message: (conn, data, isBinary) => void conn.send(data, isBinary) }),
    route('/whoami/*', {
      upgrade: (request) => ({ data: { path: request.url } }),
      message: (conn) => void conn.send(conn.data.path),
    }),
  ],
});

// Values: nothing of the reactor is exported, SendResult has uWebSockets.js's numbers.
const exported = Object.keys(lightws).sort();
for (const name of ['Connection', 'Reactor', 'Server', 'Client'])
  if (exported.includes(name)) throw new Error(`${name} is exported`);
if (SendResult.Queued !== 0 || SendResult.Written !== 1 || SendResult.Dropped !== 2) throw new Error('SendResult');

// And it runs: a routed echo and a client of the package's own.
const { port } = await routed.listen(0, '127.0.0.1');
const replies: string[] = [];
const client = createClient({ logLevel: 'silent', message: (_conn, data) => void replies.push(String(data)) });
const echo = await client.connect(`ws://127.0.0.1:${port}/echo`);
const whoami = await client.connect(`ws://127.0.0.1:${port}/whoami/alice`);
echo.send('hello');
whoami.send('?');
while (replies.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
await client.close();
await routed.close();
console.log(`esm ok: ${replies.sort().join(', ')}`);
