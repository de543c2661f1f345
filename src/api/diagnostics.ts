import diagnostics_channel from 'node:diagnostics_channel';
import type { ProtocolError } from '../protocol/protocol-error.js';
import type { Connection } from './connection.js';

/**
 * lightws's `node:diagnostics_channel` channels: APM tools, tracing and
 * tests subscribe by name (`diagnostics_channel.subscribe('lightws:connection:open', fn)`),
 * and a server nobody listens to pays one `hasSubscribers` read per event,
 * the message object being built only when someone does. Events are per
 * connection or per request, never per message.
 */

/** `lightws:connection:open`: a WebSocket opened (after the 101, before the `open` handler). */
export interface OpenMessage {
  readonly conn: Connection;
  /** The upgrade request (server), or the server's 101 response (client). */
  readonly request: unknown;
  readonly role: 'server' | 'client';
}

/** `lightws:connection:close`: a WebSocket that was open is gone (just before the `close` handler). */
export interface CloseMessage {
  readonly conn: Connection;
  readonly code: number;
  readonly reason: string;
  readonly role: 'server' | 'client';
  /** `ip:port`, read before the socket went (conn.remoteAddress can no longer tell). */
  readonly remoteAddress: string;
}

/** `lightws:handshake:refused`: an upgrade answered with an HTTP error instead of the 101. */
export interface RefusedMessage {
  readonly status: number;
  readonly reason: string;
  /** What the request said, when it got far enough to be parsed. */
  readonly url: string | undefined;
  readonly origin: string | undefined;
  readonly remoteAddress: string;
}

/** `lightws:protocol-error`: a peer broke RFC 6455 and its connection is failed with `code`. */
export interface ProtocolErrorMessage {
  readonly conn: Connection;
  readonly error: ProtocolError;
  readonly code: number;
}

/** `lightws:http:request`: a plain HTTP request was answered. */
export interface RequestMessage {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly remoteAddress: string;
}

/** The channels' names, for `diagnostics_channel.subscribe(DIAGNOSTICS_CHANNELS.open, fn)`. */
export const DIAGNOSTICS_CHANNELS = {
  open: 'lightws:connection:open',
  close: 'lightws:connection:close',
  refused: 'lightws:handshake:refused',
  protocolError: 'lightws:protocol-error',
  request: 'lightws:http:request',
} as const;

/** The channel objects, made once (Node keeps one per name; holding them saves the lookup). */
export const channels = {
  open: diagnostics_channel.channel(DIAGNOSTICS_CHANNELS.open),
  close: diagnostics_channel.channel(DIAGNOSTICS_CHANNELS.close),
  refused: diagnostics_channel.channel(DIAGNOSTICS_CHANNELS.refused),
  protocolError: diagnostics_channel.channel(DIAGNOSTICS_CHANNELS.protocolError),
  request: diagnostics_channel.channel(DIAGNOSTICS_CHANNELS.request),
} as const;
