import type { ChildProcess } from 'node:child_process';

/** A relayed publish as the primary sends it to a slot being reloaded, with its number. */
export interface LoggedRelay {
  seq: number;
  message: object;
  /** What it costs while held (relaySize in relay-message.ts). */
  size: number;
}

/**
 * The primary's relay to one slot while it reloads (TopicRelay in
 * cluster-bridge.ts). The old worker and its successor both hold the slot's
 * subscribers then, and connections move between them: relayed to each
 * independently, a publish reaches a connection in flight from neither (lost),
 * one served by the old worker again from the new (duplicated), and the two
 * streams interleave (reordered). So the slot's relays go to the old worker
 * only, numbered here: it delivers each to its subscribers and forwards it
 * down the handover channel, behind every connection it sent before, and the
 * successor delivers what comes down it. The old worker reports the number
 * of the last one it forwarded (`reload-done`); the successor is then sent
 * those after it, from this log, before any new one: nothing lost at the
 * switch, nothing twice.
 *
 * The log is bounded (`maxBytes`, relayMaxBufferedBytes): past it the oldest
 * go, those the old worker has most likely forwarded already. One the
 * successor needed that went is lost for its subscribers, and counted as
 * dropped for the slot (`lightws_relay_dropped_messages_total`).
 */
export class ReloadRelay {
  private next = 1;
  private readonly log: LoggedRelay[] = [];
  private head = 0;
  private bytes = 0;

  constructor(
    /** The slot's old worker: the only one the slot's relays go to now. */
    readonly old: ChildProcess,
    private readonly maxBytes: number,
  ) {}

  /** Numbers `message` and logs it; returns it as the old worker is sent it. */
  number(message: object, size: number): object {
    const numbered = { ...message, seq: this.next++ };
    this.log.push({ seq: numbered.seq, message, size });
    this.bytes += size;
    while (this.bytes > this.maxBytes && this.head < this.log.length) this.bytes -= this.log[this.head++]!.size;
    // The gone ones leave the array now and then, not one by one (a shift is a copy).
    if (this.head > 1024 && this.head * 2 > this.log.length) {
      this.log.splice(0, this.head);
      this.head = 0;
    }
    return numbered;
  }

  /** The relays after `last` still logged (unnumbered, for the successor), and how many after it are gone. */
  after(last: number): { relays: LoggedRelay[]; lost: number } {
    const kept = this.log.slice(this.head).filter((entry) => entry.seq > last);
    const first = kept[0]?.seq ?? this.next;
    return { relays: kept, lost: Math.max(0, first - (last + 1)) };
  }
}
