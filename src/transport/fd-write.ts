import { writevSync } from 'node:fs';

const EMPTY = Buffer.alloc(0);
/** Reused for every call: writevSync is synchronous, and the payload slot is cleared before returning. */
const iov: Uint8Array[] = [EMPTY, EMPTY];

/**
 * One writev(2) of `header` and `payload` on a socket's descriptor: the
 * kernel takes what fits in its send buffer and nothing is queued, which is
 * what the writer's direct path needs (Link.tryWrite). libuv's own writes
 * (writeBuffer, writev on the handle) cannot serve here: what the kernel
 * does not take at once they queue by reference, and the caller's buffer
 * (or the read slab) may change before the queue drains. The descriptor is
 * non-blocking (libuv made it so), and the caller calls this only when
 * libuv's queue for it is empty, so bytes stay in order.
 *
 * Returns the bytes taken, 0 when the send buffer is full (EAGAIN) or the
 * call was interrupted, or the negative errno of a dead socket (EPIPE:
 * Node ignores SIGPIPE).
 */
export function tryWritev(fd: number, header: Uint8Array, payload: Uint8Array): number {
  iov[0] = header;
  iov[1] = payload;
  try {
    return writevSync(fd, iov);
  } catch (error) {
    const { code, errno } = error as NodeJS.ErrnoException;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') return 0;
    return typeof errno === 'number' && errno < 0 ? errno : -32;
  } finally {
    iov[0] = EMPTY;
    iov[1] = EMPTY;
  }
}
