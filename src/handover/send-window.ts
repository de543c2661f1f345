/**
 * How many connections the sender may have in flight (sent, not yet
 * acknowledged). A connection in flight is stalled: it is read by neither
 * process. Too few in flight and the channel's round trip sets the pace;
 * too many and each connection waits behind all of them when the new
 * process is the slower side (CPU: it adopts and starts reading each one).
 * So the window follows the acknowledgement rate: as many as the new process
 * acknowledges in `targetMs`, between `min` and the channel's `max`, and
 * each connection's stall stays near `targetMs` plus one round trip
 * whatever the machine's pace.
 */
export class SendWindow {
  /** Acknowledgements per millisecond, smoothed; 0 until the first. */
  private rate = 0;
  private lastAt: number;

  constructor(
    private readonly max: number,
    private readonly min = Math.min(64, max),
    private readonly targetMs = 20,
    now = Date.now(),
  ) {
    this.lastAt = now;
  }

  /** The connections that may be in flight now. */
  get size(): number {
    if (this.rate === 0) return this.min;
    return Math.max(this.min, Math.min(this.max, Math.round(this.rate * this.targetMs)));
  }

  /** `count` connections were acknowledged (at `now`). */
  acknowledged(count: number, now = Date.now()): void {
    // Several acknowledgements in one millisecond: one sample over at least a millisecond.
    const elapsed = Math.max(1, now - this.lastAt);
    this.lastAt = now;
    const sample = count / elapsed;
    this.rate = this.rate === 0 ? sample : this.rate * 0.8 + sample * 0.2;
  }
}
