/**
 * Upgrade requests for the fuzz generator: valid ones in any header order and
 * spelling, and mutated ones, some with the status they must get.
 */
import type { Limits } from './limits.js';
import type { Rng } from './rng.js';

export interface HeadPlan {
  head: Buffer;
  key: string;
  mutation: string;
  /** The status a deterministic mutation must get. */
  expectStatus?: number;
}

export function requestLines(r: Rng, key: string): string[] {
  const path = r.pick(['/', '/', '/chat', '/a/b?c=d&e=%20f', `/${'x'.repeat(r.int(300))}`, 'ws://127.0.0.1:9001/abs']);
  const headers = [
    'Host: 127.0.0.1:9001',
    r.pick(['Upgrade: websocket', 'Upgrade: WebSocket', 'upgrade: websocket', 'Upgrade: foo, websocket']),
    r.pick(['Connection: Upgrade', 'Connection: upgrade', 'Connection: keep-alive, Upgrade', 'connection: Upgrade']),
    `Sec-WebSocket-Key: ${key}`,
    r.pick([
      'Sec-WebSocket-Version: 13',
      'sec-websocket-version: 13',
      'Sec-WebSocket-Version:13',
      'Sec-WebSocket-Version:   13  ',
    ]),
  ];
  if (r.chance(0.2)) headers.push('User-Agent: lightws-fuzz/1');
  if (r.chance(0.15)) headers.push(`Sec-WebSocket-Protocol: ${r.pick(['chat', 'chat, superchat', 'v1.fuzz'])}`);
  if (r.chance(0.15))
    headers.push(
      `Sec-WebSocket-Extensions: ${r.pick(['permessage-deflate', 'permessage-deflate; client_max_window_bits', 'x-foo'])}`,
    );
  if (r.chance(0.1)) headers.push('Accept-Encoding: gzip', 'Cache-Control: no-cache');
  // Any header order is valid.
  for (let i = headers.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [headers[i], headers[j]] = [headers[j]!, headers[i]!];
  }
  return [`GET ${path} HTTP/1.1`, ...headers];
}

export function joinHead(lines: readonly string[]): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

function headerIndex(lines: readonly string[], name: string): number {
  return lines.findIndex((l, i) => i > 0 && l.toLowerCase().startsWith(`${name}:`));
}

function withoutHeader(lines: string[], name: string): string[] {
  const i = headerIndex(lines, name);
  return i < 0 ? lines : lines.filter((_, j) => j !== i);
}

function replaceHeader(lines: string[], name: string, line: string): string[] {
  const i = headerIndex(lines, name);
  const out = lines.slice();
  if (i < 0) out.push(line);
  else out[i] = line;
  return out;
}

type HeadMutator = (r: Rng, lines: string[], limits: Limits) => { head: Buffer; expect?: number };

const HEAD_MUTATORS: readonly (readonly [string, HeadMutator])[] = [
  [
    'method',
    (r, l) => ({
      head: joinHead([
        l[0]!.replace(/^GET/, r.pick(['POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'get'])),
        ...l.slice(1),
      ]),
      expect: 405,
    }),
  ],
  ['http-1.0', (_r, l) => ({ head: joinHead([l[0]!.replace(/HTTP\/1\.1$/, 'HTTP/1.0'), ...l.slice(1)]), expect: 400 })],
  [
    'http-major',
    (r, l) => ({
      head: joinHead([l[0]!.replace(/HTTP\/1\.1$/, r.pick(['HTTP/2.0', 'HTTP/0.9', 'HTTP/3.1'])), ...l.slice(1)]),
      expect: 505,
    }),
  ],
  [
    'ws-version',
    (r, l) => ({
      head: joinHead(
        replaceHeader(
          l,
          'sec-websocket-version',
          `Sec-WebSocket-Version: ${r.pick(['8', '7', '12', '14', '', '13, 8', '1.3'])}`,
        ),
      ),
      expect: 426,
    }),
  ],
  ['no-ws-version', (_r, l) => ({ head: joinHead(withoutHeader(l, 'sec-websocket-version')), expect: 426 })],
  ['no-key', (_r, l) => ({ head: joinHead(withoutHeader(l, 'sec-websocket-key')), expect: 400 })],
  [
    'bad-key',
    (r, l) => ({
      head: joinHead(
        replaceHeader(
          l,
          'sec-websocket-key',
          `Sec-WebSocket-Key: ${r.pick(['abc', r.bytes(15).toString('base64'), r.bytes(17).toString('base64'), 'AAAAAAAAAAAAAAAAAAAAA!==', ''])}`,
        ),
      ),
      expect: 400,
    }),
  ],
  ['no-host', (_r, l) => ({ head: joinHead(withoutHeader(l, 'host')), expect: 400 })],
  ['no-upgrade', (_r, l) => ({ head: joinHead(withoutHeader(l, 'upgrade')), expect: 400 })],
  ['no-connection', (_r, l) => ({ head: joinHead(withoutHeader(l, 'connection')), expect: 400 })],
  [
    'wrong-upgrade',
    (r, l) => ({
      head: joinHead(replaceHeader(l, 'upgrade', `Upgrade: ${r.pick(['h2c', 'web socket', 'websockets'])}`)),
      expect: 400,
    }),
  ],
  [
    'wrong-connection',
    (_r, l) => ({ head: joinHead(replaceHeader(l, 'connection', 'Connection: keep-alive')), expect: 400 }),
  ],
  [
    'dup-header',
    (r, l) => {
      const name = r.pick(['host', 'sec-websocket-key', 'sec-websocket-version']);
      const i = headerIndex(l, name);
      return { head: joinHead([...l, l[i]!]), expect: 400 };
    },
  ],
  [
    'body',
    (r, l) => ({
      head: joinHead([...l, r.pick(['Content-Length: 5', 'Transfer-Encoding: chunked', 'Content-Length: 1'])]),
      expect: 400,
    }),
  ],
  [
    'bare-lf',
    (r, l) => {
      const at = r.range(1, l.length - 1);
      const text = `${l.slice(0, at).join('\r\n')}\n${l.slice(at).join('\r\n')}\r\n\r\n`;
      return { head: Buffer.from(text, 'latin1'), expect: 400 };
    },
  ],
  [
    'obs-fold',
    (r, l) => {
      const at = r.range(2, l.length);
      return { head: joinHead([...l.slice(0, at), r.pick([' folded', '\tfolded']), ...l.slice(at)]), expect: 400 };
    },
  ],
  ['space-before-colon', (_r, l) => ({ head: joinHead([...l, 'X-Bad : 1']), expect: 400 })],
  [
    'ctl-in-value',
    (r, l) => ({ head: joinHead([...l, `X-Bad: a${r.pick(['\x00', '\x01', '\x7f', '\x1b'])}b`]), expect: 400 }),
  ],
  ['empty-name', (_r, l) => ({ head: joinHead([...l, ': value']), expect: 400 })],
  [
    'bad-target',
    (r, l) => ({
      head: joinHead([`GET ${r.pick(['*', 'example.com:80', 'chat', '%2F'])} HTTP/1.1`, ...l.slice(1)]),
      expect: 400,
    }),
  ],
  ['origin', (_r, l) => ({ head: joinHead([...l, 'Origin: http://evil.example']), expect: 403 })],
  [
    'huge',
    (r, l, limits) => ({
      head: joinHead([...l, `X-Pad: ${'a'.repeat(limits.maxHeaderSize + r.int(8000))}`]),
      expect: 431,
    }),
  ],
  [
    'many-headers',
    (r, l) => {
      const extra: string[] = [];
      const count = r.range(50, 800);
      for (let i = 0; i < count; i++) extra.push(`X-H${i}: ${'v'.repeat(r.int(10))}`);
      return { head: joinHead([...l, ...extra]) };
    },
  ],
  [
    'truncate',
    (r, l) => {
      const full = joinHead(l);
      return { head: full.subarray(0, r.int(full.length)) };
    },
  ],
  [
    'bytes',
    (r, l) => {
      let head = Buffer.from(joinHead(l));
      const ops = r.range(1, 3);
      for (let i = 0; i < ops; i++) {
        const at = r.int(head.length);
        switch (r.int(5)) {
          case 0:
            head[at]! ^= 1 << r.int(8);
            break;
          case 1:
            head[at] = r.pick([0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x00, 0xff, r.int(256)]);
            break;
          case 2:
            head = Buffer.concat([head.subarray(0, at), head.subarray(Math.min(head.length, at + r.range(1, 20)))]);
            break;
          case 3:
            head = Buffer.concat([
              head.subarray(0, at),
              r.chance(0.5) ? r.bytes(r.range(1, 20)) : Buffer.from(r.pick(['\r\n', '\r\n\r\n', ':', ' ', '\n'])),
              head.subarray(at),
            ]);
            break;
          default: {
            const len = r.range(1, 40);
            head = Buffer.concat([head.subarray(0, at), head.subarray(at, at + len), head.subarray(at)]);
          }
        }
      }
      return { head };
    },
  ],
];

export function planHead(r: Rng, limits: Limits, mutate: boolean): HeadPlan {
  const key = r.bytes(16).toString('base64');
  const lines = requestLines(r, key);
  if (!mutate) return { head: joinHead(lines), key, mutation: 'none' };
  const [name, mutator] = r.pick(HEAD_MUTATORS);
  const { head, expect } = mutator(r, lines, limits);
  const plan: HeadPlan = { head, key, mutation: name };
  if (expect !== undefined) plan.expectStatus = expect;
  return plan;
}
