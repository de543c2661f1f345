import { pickHandlers } from './handler-options.js';
import type { DataUpgradeDecision, HandshakeRequest } from './api/handlers.js';
import type { RouteHandlers, RouteSpec } from './api/route-spec.js';

/** A path pattern and its handlers, for `createServer({ routes: [...] })`; made by `route()`, which types the handlers. */
export interface Route extends RouteSpec {}

/** A route's handlers when its `upgrade` hook gives every connection data: `conn.data` is `UserData`. */
export interface RouteHandlersWithData<UserData> extends Omit<RouteHandlers<UserData>, 'upgrade'> {
  upgrade(request: HandshakeRequest): DataUpgradeDecision<UserData> | Promise<DataUpgradeDecision<UserData>>;
}

/**
 * One route of a server (uWebSockets.js: `App().ws(pattern, behavior)`):
 * `'/chat'` matches that path only; `'/feed/*'` matches `/feed` and every
 * path under `/feed/`; `'/*'` matches every path. The query string is not
 * part of the path. Each route has its own handlers and its own `UserData`,
 * typed as `createServer` types it.
 */
export function route<UserData>(path: string, handlers: RouteHandlersWithData<UserData>): Route;
export function route<UserData = unknown>(path: string, handlers: RouteHandlers<UserData | undefined>): Route;
export function route(path: string, handlers: RouteHandlers): Route {
  return { path, handlers: pickHandlers(handlers, HANDLER_NAMES) };
}

const HANDLER_NAMES = ['request', 'upgrade', 'open', 'message', 'close', 'ping', 'pong', 'drain'] as const;
