/** Anything `send` takes. A string goes as UTF-8. */
export type SendData = string | Buffer | Uint8Array | ArrayBuffer | ArrayBufferView;

/**
 * What `send` did with a message. The numbers are uWebSockets.js's for the
 * same meaning (0 backpressure, 1 success, 2 dropped), so code ported from
 * it that compares with numbers, or tests `!conn.send(...)` for
 * backpressure, still does what it did. Compare with the names.
 */
export const SendResult = {
  /** Kept in a pooled buffer until the kernel takes it (see bufferedAmount, drain): uWS's 0, backpressure. */
  Queued: 0,
  /** The kernel took the whole frame: uWS's 1, success. */
  Written: 1,
  /** Not sent: the connection is closed or closing, or over maxBufferedBytes with backpressure 'drop': uWS's 2, dropped. */
  Dropped: 2,
} as const;
export type SendResult = (typeof SendResult)[keyof typeof SendResult];

/** The byte length of what `send` was given, without encoding a string. */
export function byteLengthOf(data: SendData): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : (data as ArrayBufferView | ArrayBuffer).byteLength;
}

/** The bytes of a binary `send` argument, without copying. */
export function bytesOf(data: Exclude<SendData, string>): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('send() takes a string, Buffer, TypedArray, DataView or ArrayBuffer');
}
