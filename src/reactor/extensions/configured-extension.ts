import { DeflateEngine } from '../../compression/deflate-engine.js';
import { checkZlibInternals } from '../../compression/zlib-context.js';
import type { BufferPool } from '../../pool/buffer-pool.js';
import type { ResolvedOptions } from '../options.js';
import type { Writer } from '../write/writer.js';
import { PermessageDeflate, type FailConnection } from './deflate-extension.js';
import type { Extension } from './extension.js';

/**
 * The extension an endpoint's options ask for, or null for none: the
 * reactor builds it here and then knows it only as an Extension.
 * permessage-deflate, when the `deflate` option is not 'off'.
 */
export function configuredExtension(
  o: ResolvedOptions,
  role: 'server' | 'client',
  pool: BufferPool,
  writer: Writer,
  fail: FailConnection,
): Extension | null {
  if (o.deflate === 'off') return null;
  return new PermessageDeflate(deflateEngine(o, role), o.deflateThreshold, role, pool, writer, fail);
}

/** The zlib side of permessage-deflate, after checking that the Node internals it drives are there. */
function deflateEngine(o: ResolvedOptions, role: 'server' | 'client'): DeflateEngine {
  const missing = checkZlibInternals();
  if (missing !== undefined)
    throw new Error(
      `deflate: '${o.deflate}' needs node:zlib internals this Node lacks (${missing}); use deflate: 'off'`,
    );
  return new DeflateEngine({
    mode: o.deflate as 'shared' | 'window',
    windowBits: o.deflateWindowBits,
    memLevel: o.deflateMemLevel,
    level: o.deflateLevel,
    maxBytes: o.maxDeflateBytes,
    maxMessageSize: o.maxMessageSize,
    // A server's connections may move to another process (handover): it keeps what their inflaters need there.
    keepReceiveWindow: role === 'server',
  });
}
