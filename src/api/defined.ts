/**
 * The keys of `settings` whose value is not `undefined`. A setting the
 * command line left out must mean "the default of whoever receives it", not
 * "override it with nothing": `{ maxMessageSize: 4096, ...settings }` with
 * `settings.maxMessageSize === undefined` would replace the chat's 4 KiB with
 * the library's 16 MiB (issue #20, case 3).
 */
export function defined<T extends object>(settings: T): Partial<T> {
  const kept: Partial<T> = {};
  for (const key of Object.keys(settings) as (keyof T)[]) {
    if (settings[key] !== undefined) kept[key] = settings[key];
  }
  return kept;
}
