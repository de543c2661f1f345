/** Anything `send` takes. A string goes as UTF-8. */
export type SendData = string | Buffer | Uint8Array | ArrayBuffer | ArrayBufferView;

/** What `send` did with a message. */
export const SendResult = {
  /** Not sent: the connection is closed or closing. */
  Dropped: 0,
  /** The kernel took the whole frame. */
  Written: 1,
  /** Kept in a pooled buffer until the kernel takes it (see bufferedAmount, drain). */
  Queued: 2,
} as const;
export type SendResult = (typeof SendResult)[keyof typeof SendResult];

/** The byte length of what `send` was given, without encoding a string. */
export function byteLengthOf(data: SendData): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : (data as ArrayBufferView | ArrayBuffer).byteLength;
}

/** The bytes of what `send` was given, when it is not a string: a view, never a copy. */
export function toBytes(data: Exclude<SendData, string>): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('send() takes a string, Buffer, TypedArray, DataView or ArrayBuffer');
}
