import { requestPath } from '../../protocol/http-request.js';
import { MAX_ROUTES, ROUTE_SHIFT } from '../connection/connection-state.js';
import type { ConnectionRecord } from '../connection/connection-record.js';
import type { Handlers } from '../../api/handlers.js';
import type { RouteHandlers, RouteSpec } from '../../api/route-spec.js';
import type { Connection as PublicConnection } from '../../api/connection.js';
import type { RequestHandler } from '../../api/request-handler.js';

const EVENT_NAMES = ['open', 'message', 'close', 'ping', 'pong', 'drain'] as const;
const WEBSOCKET_HANDLERS = ['upgrade', ...EVENT_NAMES] as const;

/**
 * The routes of a server, chosen by the request path at the upgrade (as
 * uWebSockets.js's `App().ws(pattern, behavior)`): exact paths first, then the
 * longest prefix pattern. The chosen route's index goes into the high bits of
 * the connection's flags, and each event reaches the route's handlers through
 * one shared dispatcher per event: no field, closure or map entry per
 * connection. A server without routes never builds one of these, so its
 * handlers are called directly, as before.
 */
export class RouteTable {
  private readonly routes: RouteHandlers[] = [];
  private readonly exact = new Map<string, number>();
  /** Prefix patterns, longest prefix first: `/feed/*` is stored as `/feed`, `/*` as ''. */
  private readonly prefixes: { prefix: string; index: number }[] = [];
  /** Per route: an HTTP route (a request handler and no WebSocket handler), where an upgrade gets 404. */
  private readonly httpOnly: boolean[] = [];

  constructor(specs: readonly RouteSpec[]) {
    if (specs.length === 0) throw new TypeError('routes must hold at least one route');
    if (specs.length > MAX_ROUTES) throw new RangeError(`at most ${MAX_ROUTES} routes`);
    const seen = new Set<string>();
    for (const spec of specs) {
      const { path } = spec;
      checkPattern(path);
      if (seen.has(path)) throw new TypeError(`route ${path} is declared twice`);
      seen.add(path);
      const index = this.routes.push(spec.handlers) - 1;
      this.httpOnly.push(
        spec.handlers.request !== undefined && WEBSOCKET_HANDLERS.every((name) => spec.handlers[name] === undefined),
      );
      if (path.endsWith('/*')) this.prefixes.push({ prefix: path.slice(0, -2), index });
      else this.exact.set(path, index);
    }
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The route for a request target (origin- or absolute-form, query ignored), or -1: none, answer 404. */
  select(target: string): number {
    const path = requestPath(target);
    const exact = this.exact.get(path);
    if (exact !== undefined) return exact;
    for (const { prefix, index } of this.prefixes) {
      if (path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 0x2f))
        return index;
    }
    return -1;
  }

  /** Records the route on the connection (before it opens, so every later event finds it). */
  assign(conn: ConnectionRecord, index: number): void {
    conn.flags |= index << ROUTE_SHIFT;
  }

  upgradeHook(index: number): Handlers['upgrade'] {
    return this.routes[index]!.upgrade;
  }

  /** Does the route take WebSocket upgrades? All do but HTTP routes (only a `request` handler). */
  takesUpgrades(index: number): boolean {
    return !this.httpOnly[index]!;
  }

  /** The route's handler for plain HTTP requests, if it has one. */
  requestHandler(index: number): RequestHandler | undefined {
    return this.routes[index]!.request;
  }

  /** One handler per event that some route handles, passing it to the connection's route. */
  dispatchers(): Handlers {
    const routes = this.routes;
    const of = (conn: PublicConnection): RouteHandlers =>
      routes[((conn as ConnectionRecord).flags >>> ROUTE_SHIFT) & (MAX_ROUTES - 1)]!;
    const handlers: Handlers = {};
    const some = (name: (typeof EVENT_NAMES)[number]): boolean => routes.some((route) => route[name] !== undefined);
    if (some('open')) handlers.open = (conn, request) => of(conn).open?.(conn, request);
    if (some('message')) handlers.message = (conn, data, isBinary) => of(conn).message?.(conn, data, isBinary);
    if (some('close')) handlers.close = (conn, code, reason) => of(conn).close?.(conn, code, reason);
    if (some('ping')) handlers.ping = (conn, data) => of(conn).ping?.(conn, data);
    if (some('pong')) handlers.pong = (conn, data) => of(conn).pong?.(conn, data);
    if (some('drain')) handlers.drain = (conn) => of(conn).drain?.(conn);
    return handlers;
  }
}

/** `/a/b` or `/a/*`: starts with '/', a '*' only as the whole last segment, no query or fragment. */
function checkPattern(path: unknown): void {
  const valid =
    typeof path === 'string' &&
    path.startsWith('/') &&
    !path.includes('?') &&
    !path.includes('#') &&
    (!path.includes('*') || (path.indexOf('*') === path.length - 1 && path.endsWith('/*')));
  if (!valid)
    throw new TypeError(
      `route path must be /exact or /prefix/* (a '*' only as the last segment), not ${JSON.stringify(path)}`,
    );
}
