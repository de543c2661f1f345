import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, type Connection } from '../../../src/index.js';
import { ConnectionExtras, dropExtrasIfEmpty, extrasOf } from '../../../src/reactor/connection/connection-extras.js';
import type { ConnectionRecord } from '../../../src/reactor/connection/connection-record.js';
import { RawClient } from '../../support/raw-client.js';
import { start, TRANSPORTS, until } from '../../support/servers.js';

/** Every field that must keep the extras alive, set to a non-empty value. */
const KEEPERS: [string, (e: ConnectionExtras) => void][] = [
  ['head', (e) => (e.head = Buffer.alloc(1))],
  ['progress', (e) => (e.progress = {} as never)],
  ['clientKey', (e) => (e.clientKey = 'k')],
  ['inflight', (e) => (e.inflight = Buffer.alloc(1))],
  ['inflightShared', (e) => (e.inflightShared = {} as never)],
  ['outbox', (e) => (e.outbox = Buffer.alloc(1))],
  ['topics', (e) => (e.topics = new Set(['t']))],
  ['protocol', (e) => (e.protocol = 'chat')],
  ['closeCode', (e) => (e.closeCode = 1000)],
];

test('extras are created on first need and dropped only when nothing in them is worth keeping', () => {
  const holder = { extras: null as ConnectionExtras | null };
  const extras = extrasOf(holder);
  assert.equal(extrasOf(holder), extras, 'the same object until dropped');
  dropExtrasIfEmpty(holder);
  assert.equal(holder.extras, null);
  for (const [name, keep] of KEEPERS) {
    const e = extrasOf(holder);
    keep(e);
    dropExtrasIfEmpty(holder);
    assert.equal(holder.extras, e, `${name} keeps the extras`);
    holder.extras = null;
  }
});

/**
 * A value unlike the fresh one, by the fresh one's kind. A field of a kind
 * not listed here fails the test below: teach `changed` about it (and
 * `isEmpty`), rather than let a new field go unchecked.
 */
function changed(fresh: unknown, field: string): unknown {
  if (fresh === null) return {};
  if (typeof fresh === 'number') return 1;
  if (typeof fresh === 'string') return 'x';
  if (Array.isArray(fresh)) return ['x'];
  throw new Error(`ConnectionExtras.${field} is a ${typeof fresh}: add a non-default value for it here`);
}

/** The fields of ConnectionExtras whose non-default value isEmpty() does not see. */
function unseen(make: () => ConnectionExtras): string[] {
  const fields = Object.keys(make());
  assert.ok(fields.length >= 18, `${fields.length} fields`);
  return fields.filter((field) => {
    const e = make();
    assert.equal(e.isEmpty(), true, 'a fresh one is empty');
    (e as unknown as Record<string, unknown>)[field] = changed((e as unknown as Record<string, unknown>)[field], field);
    return e.isEmpty();
  });
}

test('isEmpty sees every field: each one, set alone to something, keeps the extras', () => {
  // Fields found by enumeration, so a field added later is checked without editing this test.
  // Dropping extras that still hold something loses it (a buffer, a count, a reason) for good.
  assert.deepEqual(
    unseen(() => new ConnectionExtras()),
    [],
  );
});

test('the field check fails on an isEmpty that misses a field', () => {
  // The check must be able to fail: an isEmpty blind to closeReason.
  class Blind extends ConnectionExtras {
    override isEmpty(): boolean {
      const reason = this.closeReason;
      this.closeReason = '';
      try {
        return super.isEmpty();
      } finally {
        this.closeReason = reason;
      }
    }
  }
  assert.deepEqual(
    unseen(() => new Blind()),
    ['closeReason'],
  );
  assert.throws(() => changed(new Set(), 'topics'), /topics is a object/);
});

test('bufferedAmount is what is in flight plus what waits in the outbox', () => {
  const e = new ConnectionExtras();
  e.inflightPending = 10;
  e.outboxLength = 32;
  assert.equal(e.bufferedAmount(), 42);
});

/** The fields of a connection's extras that differ from a fresh one's ([] when it holds none). */
function leftovers(conn: Connection): string[] {
  const extras = (conn as ConnectionRecord).extras;
  if (extras === null) return [];
  const fresh = new ConnectionExtras() as unknown as Record<string, unknown>;
  const fields = Object.entries(extras).filter(
    ([field, value]) => !(Array.isArray(value) ? value.length === 0 : value === fresh[field]),
  );
  return fields.length === 0 ? ['(empty extras kept)'] : fields.map(([field]) => field);
}

for (const transport of TRANSPORTS) {
  test(`over ${transport}: after a trickled handshake and a message each way, both ends hold no extras`, async (t) => {
    // isEmpty looks at every field: this shows the handshakes and writes reset what they set,
    // so an idle connection is still back to a single null (the million-connection budget).
    const opened: Connection[] = [];
    const s = await start(transport, {
      open: (conn) => void opened.push(conn),
      message: (conn, data) => void conn.send(data),
    });
    t.after(() => s.server.close({ timeoutMs: 500 }));
    const raw = await RawClient.connect(s.port);
    t.after(() => raw.destroy());
    await raw.trickle(Buffer.from(raw.request())); // the head in one-byte reads: head, headScan, headSyntax
    await raw.until(() => raw.response.startsWith('HTTP/1.1 101'), 'the 101');
    raw.send(1, 'hello');
    await raw.frameCount(1);
    const echoed: string[] = [];
    const client = createClient({
      transport,
      logLevel: 'silent',
      message: (_conn, data) => void echoed.push(data.toString()),
    });
    t.after(() => client.close());
    const conn = await client.connect(s.url); // the client's key, offers and response head: reset too
    conn.send('hi');
    await until(() => echoed.length === 1, 5000, 'the echo');
    const held = (): string[][] => [...opened, conn].map(leftovers);
    await until(() => opened.length === 2 && held().every((fields) => fields.length === 0), 5000, 'no extras').catch(
      () => undefined,
    );
    assert.deepEqual(held(), [[], [], []], 'server (raw peer), server (client peer), client');
  });
}
