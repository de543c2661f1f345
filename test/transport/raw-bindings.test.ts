import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRawBindings } from '../../src/transport/raw-bindings.js';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access -- process.binding() is untyped, as in src/transport/raw-bindings.ts */
process.noDeprecation = true;
const binding = (process as unknown as { binding: (name: string) => Record<string, any> }).binding;
const tcpWrap = binding('tcp_wrap');
const streamWrap = binding('stream_wrap');
const major = Number(process.versions.node.split('.')[0]);

test(`Node ${process.versions.node} has every internal the handle transport needs`, () => {
  const result = checkRawBindings(tcpWrap, streamWrap);
  assert.equal(result.ok, true, result.ok ? '' : result.reason);
  // The majors this release supports and tests: a failure here means handle silently became socket.
  assert.ok(major >= 20 && major <= 26, `untested Node major ${major}: check the internals, then widen this range`);
});

/** The bindings with one piece hidden: the check must name it and say no. */
function without(path: string): [Record<string, any>, Record<string, any>] {
  const tcp: Record<string, any> = { ...tcpWrap, constants: { ...tcpWrap.constants } };
  const stream = { ...streamWrap };
  const [owner, name, member] = path.split('.') as [string, string, string | undefined];
  if (owner === 'tcp_wrap' && member === undefined) delete tcp[name];
  else if (owner === 'tcp_wrap') delete tcp[name]![member!];
  else delete stream[name];
  return [tcp, stream];
}

const MODULE_MEMBERS = [
  'tcp_wrap.TCP',
  'tcp_wrap.TCPConnectWrap',
  'tcp_wrap.constants.SERVER',
  'tcp_wrap.constants.SOCKET',
  'stream_wrap.WriteWrap',
  'stream_wrap.ShutdownWrap',
  'stream_wrap.streamBaseState',
  'stream_wrap.kReadBytesOrError',
  'stream_wrap.kLastWriteWasAsync',
];
for (const path of MODULE_MEMBERS) {
  test(`a Node without ${path} falls back, and the reason names it`, () => {
    const result = checkRawBindings(...without(path));
    assert.equal(result.ok, false);
    assert.match((result as { reason: string }).reason, new RegExp(path.replace(/\./g, '\\.')));
  });
}

const METHODS = [
  'bind',
  'bind6',
  'listen',
  'connect',
  'connect6',
  'getsockname',
  'getpeername',
  'setNoDelay',
  'setKeepAlive',
  'useUserBuffer',
  'readStart',
  'readStop',
  'writeBuffer',
  'writeLatin1String',
  'shutdown',
  'close',
  'ref',
  'unref',
];
for (const method of METHODS) {
  test(`a Node whose TCP handles lack ${method} falls back, and the reason names it`, () => {
    // A subclass whose prototype hides the method: the real prototype is left alone.
    const Real = tcpWrap.TCP as new (type: number) => object;
    class Hidden extends Real {}
    Object.defineProperty(Hidden.prototype, method, { value: undefined });
    const result = checkRawBindings({ ...tcpWrap, TCP: Hidden }, streamWrap);
    assert.equal(result.ok, false);
    assert.match((result as { reason: string }).reason, new RegExp(`TCP\\.prototype\\.${method}\\b`));
  });
}

test('instance fields are checked too: a handle without writeQueueSize, a WriteWrap that drops oncomplete', () => {
  const Real = tcpWrap.TCP as new (type: number) => object;
  class NoQueueSize extends Real {}
  Object.defineProperty(NoQueueSize.prototype, 'writeQueueSize', { get: () => undefined });
  const noQueue = checkRawBindings({ ...tcpWrap, TCP: NoQueueSize }, streamWrap);
  assert.equal(noQueue.ok, false);
  assert.match((noQueue as { reason: string }).reason, /writeQueueSize/);

  class Forgetful {
    set oncomplete(_: unknown) {}
    get oncomplete(): unknown {
      return undefined;
    }
  }
  const forgetful = checkRawBindings(tcpWrap, { ...streamWrap, WriteWrap: Forgetful });
  assert.equal(forgetful.ok, false);
  assert.match((forgetful as { reason: string }).reason, /WriteWrap/);
});
