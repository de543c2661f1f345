import type { IncomingMessage } from 'node:http';
import { UpgradeRequestHead } from '../../protocol/upgrade-request.js';
import type { HandshakeRequest } from '../../api/handlers.js';

/** What a request asks its remote address of: the connection (structural, so this file does not import it). */
interface Peer {
  readonly remoteAddress: string;
}

/**
 * The upgrade request handlers see (HandshakeRequest): the parsed head plus
 * where it came from. `remoteAddress` is a getter on the prototype, read
 * from the connection when asked (a getpeername per upgrade is measurable,
 * and most handlers never ask); an own accessor per request would also
 * turn each request into a slow dictionary-mode object.
 */
export class ServerRequest extends UpgradeRequestHead implements HandshakeRequest {
  httpRequest: IncomingMessage | undefined = undefined;
  #peer: Peer | null = null;

  get remoteAddress(): string {
    return this.#peer === null ? 'unknown' : this.#peer.remoteAddress;
  }

  /** Ties the request to its connection (a static, so that handlers see no method for it). */
  static from<T extends ServerRequest>(request: T, peer: Peer): T {
    request.#peer = peer;
    return request;
  }
}
