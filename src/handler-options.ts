/**
 * The handler functions among a Server's or Client's options, copied into an
 * object of their own (the reactor takes handlers apart from its options) and
 * checked here, so a handler that is not a function fails at construction
 * instead of as a TypeError on the first event.
 */
export function pickHandlers<Options, Name extends keyof Options & string>(
  options: Options,
  names: readonly Name[],
): Pick<Options, Name> {
  const handlers = {} as Pick<Options, Name>;
  for (const name of names) {
    const handler = options[name];
    if (handler !== undefined && typeof handler !== 'function') throw new TypeError(`${name} must be a function`);
    handlers[name] = handler;
  }
  return handlers;
}
