import type { TransportName } from '../api/options.js';

/**
 * One end of a Node IPC channel: a ChildProcess in the parent, `process` in
 * the child. Handles ride on `send` as Node's child_process passes them for
 * cluster (a raw TCP handle goes as 'net.Native': sent with SCM_RIGHTS, not
 * closed by the sender, arriving as a TCP handle that is not reading).
 */
export interface Channel {
  send(message: HandoverMessage, handle?: unknown, callback?: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: HandoverMessage, handle: unknown) => void): unknown;
  on(event: 'disconnect' | 'exit', listener: () => void): unknown;
  off(event: 'message', listener: (message: HandoverMessage, handle: unknown) => void): unknown;
  off(event: 'disconnect' | 'exit', listener: () => void): unknown;
  readonly connected: boolean;
  /** How many connections may be sent and not yet acknowledged (sender.ts); Node's channel: 64. */
  readonly window?: number;
}

/** The messages of a handover, tagged like the cluster's (`lightws`). */
export type HandoverMessage =
  /** New → old: started, listening will be taken from you. */
  | { lightws: 'handover-ready' }
  /** Old → new: a listening handle (with the message); `index` of `count`. */
  | { lightws: 'handover-listener'; transport: TransportName; index: number; count: number }
  /** New → old: serving every listener (or what failed). */
  | { lightws: 'handover-listening'; error?: string }
  /** Old → new: one connection, its handle with the message. */
  | { lightws: 'handover-conn'; id: number; wire: string }
  /** Old → new: a publish made in the old process during the handover, for the subscribers that moved (forward-bridge.ts). */
  | {
      lightws: 'handover-publish';
      /** null: a broadcast (from a cluster's relay). */
      topic: string | null;
      text?: string;
      base64?: string;
      isBinary: boolean;
      /** A cluster relay's: a publish the new process made itself, its number there (cluster-bridge.ts). */
      own?: number;
    }
  /** New → old: connections `ids` are the new process's now (those adopted in one turn of its event loop). */
  | { lightws: 'handover-ack'; ids: number[] }
  /** Old → new: every connection that could move has. */
  | { lightws: 'handover-done' };

/** A message of ours (the channel carries the application's too). */
export function isHandoverMessage(message: unknown): message is HandoverMessage {
  const tag = (message as { lightws?: unknown } | null)?.lightws;
  return typeof tag === 'string' && tag.startsWith('handover-');
}
