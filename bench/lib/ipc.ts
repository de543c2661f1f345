/**
 * The child's side of an IpcChild (lib/children.ts): reports to the orchestrator, and never
 * outliving it.
 */

/** Sends one message; resolves once it is handed to the channel, so that exiting right after does not lose it. */
export function toParent(message: object): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

/**
 * Exits when the orchestrator goes away (its channel closes, even when it was SIGKILLed): a load
 * process must never stay behind holding thousands of sockets, nor a server its port.
 */
export function exitWithParent(): void {
  process.on('disconnect', () => process.exit(0));
}
