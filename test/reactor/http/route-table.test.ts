import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ROUTES, ROUTE_SHIFT, State } from '../../../src/reactor/connection/connection-state.js';
import type { RouteHandlers } from '../../../src/api/route-spec.js';
import { RouteTable } from '../../../src/reactor/http/route-table.js';
import { Opcode } from '../../../src/protocol/opcode.js';
import { closeFrame, fakeReactor, frame, upgradeRequest } from '../../support/fake-link.js';

const table = (...paths: string[]) => new RouteTable(paths.map((path) => ({ path, handlers: {} })));

test('exact paths first, then the longest prefix; the query and absolute-form authority are not the path', () => {
  const t = table('/chat', '/feed/*', '/feed/live/*', '/*', '/feed/live/exact');
  const cases: [string, number][] = [
    ['/chat', 0],
    ['/chat?room=1', 0],
    ['/chat#x', 0],
    ['/chat/', 3],
    ['/chatty', 3],
    ['/feed', 1],
    ['/feed/', 1],
    ['/feed/sports', 1],
    ['/feedback', 3],
    ['/feed/live', 2],
    ['/feed/live/a/b', 2],
    ['/feed/live/exact', 4],
    ['/feed/live/exact?x', 4],
    ['ws://example.com/chat?x=1', 0],
    ['http://example.com', 3],
    ['/', 3],
  ];
  for (const [target, expected] of cases) assert.equal(t.select(target), expected, target);
});

test('no route for the path: -1 (the handshake answers 404)', () => {
  const t = table('/chat', '/feed/*');
  for (const target of ['/', '/other', '/chat/x', '/fee', 'ws://host/elsewhere'])
    assert.equal(t.select(target), -1, target);
});

test('patterns are checked: a leading /, * only as the last segment, no query, no duplicates, not too many', () => {
  for (const bad of ['chat', '', '/a*', '/*/x', '/a/*/*', '/a?b', '/a#b', '*']) {
    assert.throws(() => table(bad), TypeError, bad);
  }
  assert.throws(() => table('/a', '/a'), /declared twice/);
  assert.throws(() => new RouteTable([]), TypeError);
  assert.throws(() => table(...Array.from({ length: MAX_ROUTES + 1 }, (_, i) => `/r${i}`)), RangeError);
  assert.doesNotThrow(() => table(...Array.from({ length: MAX_ROUTES }, (_, i) => `/r${i}`)));
});

test('the route index sits above every State bit and keeps flags a positive small integer', () => {
  const highestState = Math.max(...Object.values(State));
  assert.ok(highestState < 1 << ROUTE_SHIFT, 'State bits stay below the route bits');
  const highestFlags = ((MAX_ROUTES - 1) << ROUTE_SHIFT) | ((1 << ROUTE_SHIFT) - 1);
  assert.ok(highestFlags > 0 && highestFlags < 2 ** 30, 'a Smi even under pointer compression');
});

test('each event reaches its own route; the route index survives every state change of the connection', () => {
  const calls: string[] = [];
  const handlers = (name: string): RouteHandlers => ({
    open: () => void calls.push(`${name} open`),
    message: (_c, data) => void calls.push(`${name} message ${String(data)}`),
    close: (_c, code) => void calls.push(`${name} close ${code}`),
  });
  const routes = new RouteTable([
    { path: '/a', handlers: handlers('a') },
    { path: '/b/*', handlers: handlers('b') },
  ]);
  const h = fakeReactor({}, routes.dispatchers(), 'server', routes);
  assert.equal(h.seen.opens.length, 0);
  const a = h.link.open({ path: '/a' });
  const b = h.link.open({ path: '/b/1?x=2' });
  h.link.feed(b, frame(Opcode.Text, 'to b'));
  h.link.feed(a, frame(Opcode.Text, 'to a'));
  a.close(1000);
  h.link.feed(a, closeFrame(1000));
  h.reactor.onEnd(a);
  b.terminate();
  assert.deepEqual(calls, ['a open', 'b open', 'b message to b', 'a message to a', 'a close 1000', 'b close 1006']);
  const lonely = h.link.connect();
  h.link.feed(lonely, upgradeRequest({ path: '/nowhere' }));
  assert.match(h.link.socket(lonely).head(), /^HTTP\/1\.1 404 /);
});

test('a route without a handler for an event is skipped; a handler no route has is not dispatched at all', () => {
  const routes = new RouteTable([
    { path: '/a', handlers: { message: () => {} } },
    { path: '/b', handlers: {} },
  ]);
  assert.deepEqual(Object.keys(routes.dispatchers()), ['message']);
});

test('a routed connection has exactly the fields of any other: the route costs no field', () => {
  const routes = new RouteTable([
    { path: '/a', handlers: { message: () => {} } },
    { path: '/b', handlers: {} },
  ]);
  const routed = fakeReactor({}, routes.dispatchers(), 'server', routes).link.open({ path: '/b' });
  const plain = fakeReactor().link.open();
  assert.deepEqual(Object.getOwnPropertyNames(routed), Object.getOwnPropertyNames(plain));
  assert.equal(routed.flags >>> ROUTE_SHIFT, 1, 'the route index is in the flags');
  assert.equal(routed.flags & ((1 << ROUTE_SHIFT) - 1), plain.flags, 'and the State bits are the same');
});
