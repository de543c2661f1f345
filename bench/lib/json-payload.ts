/**
 * Realistic, compressible messages for the permessage-deflate benchmarks: a
 * chat or feed update as JSON, exactly `bytes` long, repetitive the way real
 * feeds are (the same keys, a few dozen users and rooms, similar text) but
 * not a repeated constant. Deterministic for a size and seed.
 */
const WORDS = [
  'the',
  'weather',
  'is',
  'nice',
  'today',
  'meeting',
  'at',
  'noon',
  'see',
  'you',
  'there',
  'thanks',
  'ok',
  'sounds',
  'good',
  'lunch',
  'later',
  'deploy',
  'done',
  'review',
];

export function jsonPayload(bytes: number, seed = 1): string {
  let x = seed >>> 0 || 1;
  const next = (n: number): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
  if (bytes < 2) return ' '.repeat(bytes);
  // Whole items while they fit, then spaces before the closing bracket: valid JSON of exactly `bytes`.
  let json = '[';
  for (let i = 0; ; i++) {
    const words = Array.from({ length: 3 + next(8) }, () => WORDS[next(WORDS.length)]).join(' ');
    const item = JSON.stringify({
      id: 4200000 + i * 17 + next(9),
      room: `room-${next(12)}`,
      user: { id: next(40), name: `user${next(40)}` },
      text: words,
      ts: 1733000000000 + i * 1031 + next(500),
      read: next(2) === 0,
    });
    const piece = i === 0 ? item : `,${item}`;
    if (json.length + piece.length + 1 > bytes) break;
    json += piece;
  }
  return `${json.padEnd(bytes - 1, ' ')}]`;
}
