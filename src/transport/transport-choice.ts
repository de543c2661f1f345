import type { TransportName } from '../api/options.js';
import { loadRawBindings, pendingDeprecationEnabled } from './raw-bindings.js';

/**
 * Which transport carries the connections of a server or client: 'handle'
 * (raw libuv TCP handles, the densest), 'socket' (net/tls), or 'auto'. One
 * decision for both roles, so they validate the option and fall back alike.
 */
export type TransportChoice = 'auto' | TransportName;

/** Warn about falling back once per process, not once per server or client. */
let warnedFallback = false;

/**
 * Resolves `choice` to the transport to use. `tls`: the connections are TLS,
 * which only the socket transport speaks (a client passes false: its wss://
 * connections take the socket transport whatever this returns).
 *
 * 'auto' prefers handles, except under pending deprecations, where the
 * `process.binding` they need would emit DEP0111 (fatal with
 * --throw-deprecation). When handles are wanted but unavailable (a runtime
 * without `process.binding`, the permission model), it falls back to the
 * socket transport with one LIGHTWS_TRANSPORT_FALLBACK warning.
 */
export function chooseTransport(choice: TransportChoice, tls: boolean): TransportName {
  // Options may come from untyped code (JavaScript, a parsed config file).
  if (choice !== 'auto' && choice !== 'handle' && choice !== 'socket') {
    throw new TypeError(`transport must be 'auto', 'handle' or 'socket', not ${String(choice)}`);
  }
  if (choice === 'socket') return 'socket';
  if (tls) {
    if (choice === 'handle') throw new TypeError("TLS needs transport 'socket' (or 'auto')");
    return 'socket';
  }
  if (choice === 'auto' && pendingDeprecationEnabled()) return 'socket';
  const loaded = loadRawBindings();
  if (loaded.ok) return 'handle';
  if (!warnedFallback) {
    warnedFallback = true;
    process.emitWarning(`lightws: raw libuv handles unavailable (${loaded.reason}); using the net transport`, {
      code: 'LIGHTWS_TRANSPORT_FALLBACK',
    });
  }
  return 'socket';
}
