/**
 * How a process knows it was started by another's `handover()`: by its
 * environment. Apart from successor.ts so that every server can ask at its
 * first `listen` without loading the handover itself.
 */

/** Set in the new process's environment: its first `listen` takes the old process's sockets instead of binding. */
export const HANDOVER_ENV = 'LIGHTWS_HANDOVER';

/**
 * Is this process a successor whose listen must take over (and not bind)?
 * The first listen that asks takes it: the answer is true once, claimed at
 * once (before the handover's code is loaded), so a second listen binds.
 */
export function takesOver(): boolean {
  if (process.env[HANDOVER_ENV] !== '1' || typeof process.send !== 'function') return false;
  delete process.env[HANDOVER_ENV];
  return true;
}
