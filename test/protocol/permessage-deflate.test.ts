import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExtensions, type ParsedExtension } from '../../src/protocol/extensions.js';
import {
  acceptDeflateOffer,
  acceptDeflateResponse,
  deflateOffer,
  type DeflatePolicy,
} from '../../src/protocol/permessage-deflate.js';

const SHARED: DeflatePolicy = { noContextTakeover: true, windowBits: 12 };
const WINDOW: DeflatePolicy = { noContextTakeover: false, windowBits: 12 };

function offers(header: string): ParsedExtension[] {
  const parsed = parseExtensions(header);
  assert.ok(parsed.ok, header);
  return parsed.extensions;
}

function answer(header: string, policy: DeflatePolicy): string | undefined {
  return acceptDeflateOffer(offers(header), policy)?.response;
}

function one(header: string): ParsedExtension {
  return offers(header)[0]!;
}

test('RFC 7692 §7.1.1.1, §7.1.1.2: shared mode answers both no_context_takeover parameters, offered or not', () => {
  assert.equal(
    answer('permessage-deflate', SHARED),
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
  );
  // Chromium's and Node's offer: client_max_window_bits without a value. No context takeover makes the window irrelevant.
  assert.equal(
    answer('permessage-deflate; client_max_window_bits', SHARED),
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
  );
  assert.equal(
    answer('permessage-deflate; client_no_context_takeover; server_no_context_takeover', SHARED),
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
  );
});

test('RFC 7692 §7.1.2.1: an offered server_max_window_bits is answered with the same or a smaller value', () => {
  const shared = acceptDeflateOffer(offers('permessage-deflate; server_max_window_bits=10'), SHARED)!;
  assert.equal(
    shared.response,
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10',
  );
  assert.equal(shared.agreement.serverMaxWindowBits, 10);
  const window = acceptDeflateOffer(
    offers('permessage-deflate; server_max_window_bits=15; client_max_window_bits'),
    WINDOW,
  )!;
  assert.equal(window.agreement.serverMaxWindowBits, 12);
  assert.match(window.response, /server_max_window_bits=12/);
  // Quoted values are the same value (RFC 6455 §9.1).
  assert.equal(
    acceptDeflateOffer(offers('permessage-deflate; server_max_window_bits="9"'), SHARED)!.agreement.serverMaxWindowBits,
    9,
  );
});

test('RFC 7692 §7.1.2.1: server_max_window_bits=8 is declined (zlib compresses with 9 at least); the next offer is taken', () => {
  assert.equal(answer('permessage-deflate; server_max_window_bits=8', SHARED), undefined);
  assert.equal(
    answer('permessage-deflate; server_max_window_bits=8, permessage-deflate', SHARED),
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
  );
});

test('RFC 7692 §7.1.2.2: window mode bounds the client window only when client_max_window_bits was offered, with or without a value', () => {
  const bare = acceptDeflateOffer(offers('permessage-deflate; client_max_window_bits'), WINDOW)!;
  assert.equal(bare.response, 'permessage-deflate; server_max_window_bits=12; client_max_window_bits=12');
  assert.deepEqual(bare.agreement, {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 12,
    clientMaxWindowBits: 12,
  });
  const valued = acceptDeflateOffer(offers('permessage-deflate; client_max_window_bits=10'), WINDOW)!;
  assert.equal(valued.agreement.clientMaxWindowBits, 10);
  assert.match(valued.response, /client_max_window_bits=10/);
  // §7.1.2.2: "the corresponding extension negotiation response ... MUST NOT include client_max_window_bits":
  // then the client's window cannot be bounded, so that direction goes without context takeover (§7.1.1.2).
  const unbounded = acceptDeflateOffer(offers('permessage-deflate'), WINDOW)!;
  assert.equal(unbounded.response, 'permessage-deflate; client_no_context_takeover; server_max_window_bits=12');
  assert.equal(unbounded.agreement.clientNoContextTakeover, true);
});

test('RFC 7692 §7.1.1.1, §7.1.1.2: window mode honours the no_context_takeover parameters a client offers', () => {
  const a = acceptDeflateOffer(
    offers('permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits'),
    WINDOW,
  )!;
  assert.equal(a.response, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover');
  assert.equal(a.agreement.serverNoContextTakeover, true);
  assert.equal(a.agreement.clientNoContextTakeover, true);
});

test('RFC 7692 §5: the first acceptable offer wins; others and unknown extensions are skipped', () => {
  assert.equal(
    answer('x-webkit-deflate-frame, permessage-deflate; client_max_window_bits=10, permessage-deflate', WINDOW),
    'permessage-deflate; server_max_window_bits=12; client_max_window_bits=10',
  );
  assert.equal(answer('x-webkit-deflate-frame, foo; bar', SHARED), undefined);
  assert.equal(
    answer('PerMessage-Deflate', SHARED),
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
  );
});

test('RFC 7692 §7: an offer with an unknown parameter, a repeated one or a bad value is declined, never the handshake', () => {
  for (const bad of [
    'permessage-deflate; foo',
    'permessage-deflate; client_max_window_bits; client_max_window_bits',
    'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
    'permessage-deflate; server_no_context_takeover=1',
    'permessage-deflate; client_no_context_takeover="x"',
    'permessage-deflate; server_max_window_bits',
    'permessage-deflate; server_max_window_bits=16',
    'permessage-deflate; server_max_window_bits=7',
    'permessage-deflate; server_max_window_bits=010',
    'permessage-deflate; server_max_window_bits=09',
    'permessage-deflate; client_max_window_bits=1a',
    'permessage-deflate; client_max_window_bits=100',
  ]) {
    assert.equal(answer(bad, SHARED), undefined, bad);
    assert.equal(
      answer(`${bad}, permessage-deflate`, SHARED),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
      `${bad} then a fallback`,
    );
  }
});

test('RFC 7692 §5.1: the client offers what its mode needs', () => {
  assert.equal(
    deflateOffer(SHARED),
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits',
  );
  assert.equal(deflateOffer(WINDOW), 'permessage-deflate; server_max_window_bits=12; client_max_window_bits');
  assert.equal(
    deflateOffer({ noContextTakeover: false, windowBits: 15 }),
    'permessage-deflate; client_max_window_bits',
  );
});

test('RFC 7692 §7: the client accepts what a server may answer, and fails on what it may not', () => {
  assert.deepEqual(
    acceptDeflateResponse(one('permessage-deflate; server_no_context_takeover; client_no_context_takeover'), SHARED),
    {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 15,
    },
  );
  assert.deepEqual(
    acceptDeflateResponse(one('permessage-deflate; server_max_window_bits=10; client_max_window_bits=11'), WINDOW),
    {
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 11,
    },
  );
  // The client chooses its own window up to what the server allows (§7.1.2.2).
  assert.equal(
    (
      acceptDeflateResponse(one('permessage-deflate; server_max_window_bits=12'), WINDOW) as {
        clientMaxWindowBits: number;
      }
    ).clientMaxWindowBits,
    12,
  );
  const failures: [string, DeflatePolicy, RegExp][] = [
    ['permessage-deflate; foo', SHARED, /§7/], // a parameter not defined for a response
    ['permessage-deflate; server_no_context_takeover; server_no_context_takeover', SHARED, /§7/], // repeated
    ['permessage-deflate; client_max_window_bits', SHARED, /§7/], // a response's client_max_window_bits needs a value
    ['permessage-deflate; server_max_window_bits=16; server_no_context_takeover', SHARED, /§7/],
    ['permessage-deflate; client_no_context_takeover', SHARED, /§7\.1\.1\.1/], // our server_no_context_takeover not accepted
    ['permessage-deflate', WINDOW, /§7\.1\.2\.1/], // our server_max_window_bits=12 not accepted
    ['permessage-deflate; server_max_window_bits=13', WINDOW, /§7\.1\.2\.1/], // larger than offered
    ['permessage-deflate; server_max_window_bits=12; client_max_window_bits=8', WINDOW, /client_max_window_bits=8/],
  ];
  for (const [header, policy, reason] of failures) {
    const result = acceptDeflateResponse(one(header), policy);
    assert.equal(typeof result, 'string', header);
    assert.match(result as string, reason, header);
  }
});
