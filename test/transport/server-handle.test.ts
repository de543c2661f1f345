import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errnoName } from '../../src/reactor/connection/errno.js';
import { requireRawBindings, type RawTcpHandle } from '../../src/transport/raw-bindings.js';
import { bindServerHandle, reusePortSupported } from '../../src/transport/server-handle.js';

const raw = requireRawBindings();
const supported = reusePortSupported(raw);

test(`tcp_wrap's UV_TCP_REUSEPORT is found where Node has it (${process.version}: ${supported})`, () => {
  const constants = (process as unknown as { binding(name: string): { constants: Record<string, number> } }).binding(
    'tcp_wrap',
  ).constants;
  assert.equal(supported, typeof constants['UV_TCP_REUSEPORT'] === 'number');
});

test(
  'with reusePort, several sockets bind and listen on one port; without it a socket cannot listen there',
  { skip: !supported && `Node ${process.version} has no SO_REUSEPORT` },
  async () => {
    const handles: RawTcpHandle[] = [];
    try {
      const first = await bindServerHandle(raw, 0, '127.0.0.1', true);
      handles.push(first);
      const out: Record<string, unknown> = {};
      first.getsockname(out);
      const port = Number(out.port);
      const second = await bindServerHandle(raw, port, '127.0.0.1', true);
      handles.push(second);
      const third = await bindServerHandle(raw, port, '127.0.0.1', true);
      handles.push(third);
      // The first only holds the port, as the cluster primary does; the others listen.
      assert.equal(second.listen(16), 0);
      assert.equal(third.listen(16), 0);
      // libuv sets SO_REUSEADDR on every bind, so a plain socket binds beside them; the kernel refuses it at listen.
      const plain = await bindServerHandle(raw, port, '127.0.0.1');
      handles.push(plain);
      assert.equal(errnoName(plain.listen(16)), 'EADDRINUSE');
    } finally {
      for (const handle of handles) handle.close();
    }
  },
);

test(
  'reusePort on a Node without SO_REUSEPORT is an error, not a silent shared port',
  { skip: supported && `Node ${process.version} has SO_REUSEPORT` },
  async () => {
    await assert.rejects(bindServerHandle(raw, 0, '127.0.0.1', true), /SO_REUSEPORT needs Node 22\.12/);
  },
);
