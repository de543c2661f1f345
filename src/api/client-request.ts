/** What a client asks for in its opening handshake (RFC 6455 §4.1). */
export interface ClientRequest {
  /** Host header value: `host[:port]`. */
  readonly host: string;
  /** Request target: path and query. */
  readonly path: string;
  readonly protocols?: readonly string[];
  readonly origin?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The server's answer, as the client's `open` handler sees it. */
export interface ClientResponse {
  readonly protocol: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly remoteAddress: string;
}
