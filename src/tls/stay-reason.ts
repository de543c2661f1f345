/**
 * Why a connection stays on node:tls for good: a protocol other than TLS 1.3
 * (TLS 1.2), a suite the record layer does not carry, 0-RTT attempted,
 * records it could not account for (or secrets missing from the key log),
 * or never idle while it tried. A file of its own: every server's stats count
 * these, and a server without compact TLS must not load the record layer for it.
 */
export const STAY_REASONS = ['protocol', 'suite', 'earlyData', 'untracked', 'notIdle'] as const;
export type StayReason = (typeof STAY_REASONS)[number];
