/**
 * One line of the NSS key log format, as node:tls's `keylog` event gives it
 * (`<label> <client_random hex> <secret hex>\n`; OpenSSL writes the TLS 1.3
 * labels of RFC 8446 §7.1's secrets: CLIENT_HANDSHAKE_TRAFFIC_SECRET,
 * SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT_TRAFFIC_SECRET_0,
 * SERVER_TRAFFIC_SECRET_0, EXPORTER_SECRET, and CLIENT_EARLY_TRAFFIC_SECRET
 * when 0-RTT is tried).
 */
export interface KeylogEntry {
  readonly label: string;
  readonly secret: Buffer;
}

/**
 * The label and secret of one key log line, or undefined if the line is not one, or, with
 * `labels`, if its label is not one of them (checked before the rest is decoded: node:tls logs
 * five secrets per TLS 1.3 connection and the compact path keeps two).
 */
export function parseKeylogLine(line: Buffer | string, labels?: ReadonlySet<string>): KeylogEntry | undefined {
  if (labels !== undefined) {
    const space = line.indexOf(' ');
    const label = typeof line === 'string' ? line.slice(0, space) : line.toString('latin1', 0, space);
    if (space < 0 || !labels.has(label)) return undefined;
  }
  const text = (typeof line === 'string' ? line : line.toString('latin1')).trim();
  const parts = text.split(' ');
  if (parts.length !== 3) return undefined;
  const [label, , secretHex] = parts as [string, string, string];
  if (!/^[0-9a-fA-F]+$/.test(secretHex) || secretHex.length % 2 !== 0) return undefined;
  return { label, secret: Buffer.from(secretHex, 'hex') };
}

/** The labels of the first application traffic secrets, by who writes with them. */
export const APPLICATION_SECRET_LABEL = {
  client: 'CLIENT_TRAFFIC_SECRET_0',
  server: 'SERVER_TRAFFIC_SECRET_0',
} as const;

/** Logged only if the peer tried 0-RTT and the server took it (the compact path refuses such a connection). */
export const EARLY_SECRET_LABEL = 'CLIENT_EARLY_TRAFFIC_SECRET';
