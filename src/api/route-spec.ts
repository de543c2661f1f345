import type { Handlers } from './handlers.js';

/** A route's handlers: a server's, but `error`, which stays server-wide. */
export type RouteHandlers<UserData = unknown> = Omit<Handlers<UserData>, 'error'>;

/** One path pattern and its handlers: `/chat` (exact), `/feed/*` (`/feed` and below), `/*` (everything). */
export interface RouteSpec {
  readonly path: string;
  readonly handlers: RouteHandlers;
}
