import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { createChatServer } from '../../src/chat/chat-server.js';
import { TRANSPORTS, until } from '../support/servers.js';

/** A chat member: every line it hears, and how its connection ended. */
interface Member {
  ws: WebSocket;
  lines: string[];
  closed: Promise<[number, string]>;
}

async function join(port: number, query: string): Promise<Member> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?${query}`);
  const lines: string[] = [];
  ws.on('message', (data) => void lines.push(String(data)));
  const closed = new Promise<[number, string]>((resolve) =>
    ws.once('close', (code, reason) => resolve([code, String(reason)])),
  );
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { ws, lines, closed };
}

for (const transport of TRANSPORTS) {
  describe(`the chat server (${transport})`, () => {
    test("a setting given as undefined keeps the chat's 4096-byte limit: 4,096 B relayed, 4,097 B closed with 1009", async (t) => {
      const server = createChatServer({ transport, logLevel: 'silent', maxMessageSize: undefined });
      t.after(() => server.close({ timeoutMs: 500 }));
      const { port } = await server.listen(0, '127.0.0.1');
      const alice = await join(port, 'room=big&nick=alice');
      const bob = await join(port, 'room=big&nick=bob');
      bob.ws.send('x'.repeat(4096));
      await until(() => alice.lines.some((l) => l.startsWith('bob: x')), 3000, 'the 4 KiB line');
      assert.equal(alice.lines.at(-1), `bob: ${'x'.repeat(4096)}`);
      bob.ws.send('y'.repeat(4097));
      const noClose = new Promise<[number, string]>((resolve) =>
        setTimeout(() => resolve([0, 'no close']), 3000).unref(),
      );
      assert.equal((await Promise.race([bob.closed, noClose]))[0], 1009);
      await until(() => alice.lines.includes('* bob left'), 3000, 'bob to leave');
      assert.ok(!alice.lines.some((l) => l.includes('yyyy')), 'the 4,097 B line reached no one');
      alice.ws.close();
    });

    test('spoofing: one line per message, no forged server notices or look-alike names; /nick answers the renamer alone', async (t) => {
      const server = createChatServer({ transport, logLevel: 'silent' });
      t.after(() => server.close({ timeoutMs: 500 }));
      const { port } = await server.listen(0, '127.0.0.1');
      const alice = await join(port, 'room=r&nick=alice');
      const mallory = await join(port, `room=r&nick=${encodeURIComponent('* server')}`);
      const eve = await join(port, `room=r&nick=${encodeURIComponent('\u202eeve\u200b: admin')}`);
      assert.deepEqual(mallory.lines, ['* [you] are server in room r'], 'told the name it got');
      const plain = await join(port, 'nick=plain');
      const guest = await join(port, 'room=q');
      await until(() => guest.lines.length === 1, 3000, "the guest's name");
      assert.match(guest.lines[0]!, /^\* \[you\] are guest-\d{4} in room q$/, 'no nickname asked: told the one given');
      assert.deepEqual(plain.lines, [], 'a name taken as asked (and the lobby, no room asked): nothing to tell');
      plain.ws.close();
      guest.ws.close();
      await until(() => eve.lines.length === 1, 3000, "eve's own line");
      assert.deepEqual(eve.lines, ['* [you] are eve admin in room r']);
      await until(() => alice.lines.length === 2, 3000, 'the joins');
      mallory.ws.send('hi\nbob: I am bob\r\n* bob left');
      await until(() => alice.lines.length === 3, 3000, "mallory's message");
      eve.ws.send('/nick  * alice\u2066');
      await until(() => alice.lines.length === 4, 3000, 'the rename');
      assert.deepEqual(alice.lines, [
        '* server joined',
        '* eve admin joined',
        'server: hi bob: I am bob * bob left',
        '* eve admin is now alice',
      ]);
      await until(() => eve.lines.length === 3, 3000, "eve's answer");
      assert.deepEqual(eve.lines.slice(1), ['server: hi bob: I am bob * bob left', '* [you] are now alice']);
      assert.equal(
        alice.lines.filter((l) => l.startsWith('* ')).length,
        3,
        'the server notices, none sent by a person',
      );
      for (const m of [alice, mallory, eve]) m.ws.close();
    });

    test('/benchmark: POST sends the test message; GET (a link, an <img>, a prefetch) gets 405', async (t) => {
      const server = createChatServer({ transport, logLevel: 'silent' });
      t.after(() => server.close({ timeoutMs: 500 }));
      const { port } = await server.listen(0, '127.0.0.1');
      const alice = await join(port, 'room=lobby&nick=alice');
      for (const method of ['GET', 'HEAD']) {
        const refused = await fetch(`http://127.0.0.1:${port}/benchmark`, { method });
        assert.equal(refused.status, 405, method);
        assert.equal(refused.headers.get('allow'), 'POST');
        await refused.text();
      }
      const sent = await fetch(`http://127.0.0.1:${port}/benchmark`, { method: 'POST' });
      assert.equal(await sent.text(), 'test message sent to 1 connections here\n');
      await until(() => alice.lines.length === 1, 3000, 'the test message');
      assert.deepEqual(alice.lines, ['test message'], 'only the POST sent one');
      alice.ws.close();
    });
  });
}
