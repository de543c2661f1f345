import { createServer, type Server, type ServerOptions, type TransportName } from '../../src/index.js';

/** Both transports run the same end-to-end suite. */
export const TRANSPORTS: readonly TransportName[] = ['handle', 'socket'];
export type Transport = TransportName;

export interface Started<U = unknown> {
  server: Server<U | undefined>;
  port: number;
  url: string;
  /** Errors the server reported through its `error` handler. */
  errors: Error[];
}

/** Starts a server on a free loopback port with pool debugging on. */
export async function start<U = unknown>(
  transport: Transport,
  options: ServerOptions<U | undefined> = {},
): Promise<Started<U>> {
  process.env.LIGHTWS_POOL_DEBUG = '1';
  const errors: Error[] = [];
  const server = createServer<U>({
    logLevel: 'silent',
    error: (error) => void errors.push(error),
    ...options,
    transport,
  });
  const address = await server.listen(0, '127.0.0.1');
  return { server, port: address.port, url: `ws://127.0.0.1:${address.port}`, errors };
}

/** Echoes every message: the handler most tests need. */
export const echo: ServerOptions = {
  message(conn, data, isBinary) {
    conn.send(data, isBinary);
  },
};

/** Polls `check` until it is true or `ms` passes. */
export async function until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
