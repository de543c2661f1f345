import { totalmem } from 'node:os';
import { DEFAULTS, type EndpointOptions, type LogLevel } from '../api/options.js';
import { connectionCapFromFdLimit } from './fd-limit.js';
import { normalizeAllowedHost } from '../protocol/allowed-hosts.js';

export type ResolvedOptions = Required<
  Omit<EndpointOptions, 'checkOrigin' | 'allowedHosts' | 'logger' | 'maxConnections' | 'healthPath' | 'metricsPath'>
> & { maxConnections: number } & Pick<EndpointOptions, 'checkOrigin' | 'healthPath' | 'metricsPath'> & {
    /** Normalized (lower case, IPv6 in brackets); undefined: any host. */
    allowedHosts: readonly string[] | undefined;
    logger: (level: LogLevel, message: string) => void;
  };

const LEVELS: Readonly<Record<LogLevel, number>> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };

/** Does `level` pass the configured threshold? */
export function logs(configured: LogLevel, level: LogLevel): boolean {
  return LEVELS[level] <= LEVELS[configured];
}

function writeToStderr(level: LogLevel, message: string): void {
  process.stderr.write(`lightws ${level}: ${message}\n`);
}

/** Fills defaults and rejects nonsense early, with the option's name in the error. */
export function resolveOptions(options: EndpointOptions = {}): ResolvedOptions {
  const resolved: ResolvedOptions = {
    maxMessageSize: options.maxMessageSize ?? DEFAULTS.maxMessageSize,
    minFragmentSize: options.minFragmentSize ?? DEFAULTS.minFragmentSize,
    maxHeaderSize: options.maxHeaderSize ?? DEFAULTS.maxHeaderSize,
    maxRequestBodySize: options.maxRequestBodySize ?? DEFAULTS.maxRequestBodySize,
    healthPath: options.healthPath,
    metricsPath: options.metricsPath,
    readSlabSize: options.readSlabSize ?? DEFAULTS.readSlabSize,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
    closeTimeoutMs: options.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs,
    pingIntervalMs: options.pingIntervalMs ?? DEFAULTS.pingIntervalMs,
    slowMessageTimeoutMs: options.slowMessageTimeoutMs ?? DEFAULTS.slowMessageTimeoutMs,
    minMessageRate: options.minMessageRate ?? DEFAULTS.minMessageRate,
    maxBufferedBytes: options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes,
    backpressure: options.backpressure ?? DEFAULTS.backpressure,
    maxMemoryBytes: options.maxMemoryBytes ?? Math.floor(totalmem() / 4),
    keepAliveMs: options.keepAliveMs ?? DEFAULTS.keepAliveMs,
    noDelay: options.noDelay ?? DEFAULTS.noDelay,
    checkOrigin: options.checkOrigin,
    allowedHosts: undefined, // below, once checked
    protocols: options.protocols ?? DEFAULTS.protocols,
    maxConnections: options.maxConnections ?? connectionCapFromFdLimit() ?? Number.MAX_SAFE_INTEGER,
    poolRetainedBytes: options.poolRetainedBytes ?? DEFAULTS.poolRetainedBytes,
    deflate: options.deflate ?? DEFAULTS.deflate,
    deflateThreshold: options.deflateThreshold ?? DEFAULTS.deflateThreshold,
    deflateWindowBits: options.deflateWindowBits ?? DEFAULTS.deflateWindowBits,
    deflateMemLevel: options.deflateMemLevel ?? DEFAULTS.deflateMemLevel,
    deflateLevel: options.deflateLevel ?? DEFAULTS.deflateLevel,
    maxDeflateBytes: options.maxDeflateBytes ?? DEFAULTS.maxDeflateBytes,
    logLevel: options.logLevel ?? DEFAULTS.logLevel,
    logger: options.logger ?? writeToStderr,
  };
  positive('maxMessageSize', resolved.maxMessageSize, 2 ** 53 - 1);
  positive('maxHeaderSize', resolved.maxHeaderSize, 1 << 20);
  positive('maxRequestBodySize', resolved.maxRequestBodySize, 1 << 30, true);
  for (const name of ['healthPath', 'metricsPath'] as const) {
    const path = resolved[name];
    if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/') || /[?#\s]/.test(path))) {
      throw new TypeError(
        `${name} must be a path such as '/${name === 'healthPath' ? 'healthz' : 'metrics'}', not ${JSON.stringify(path)}`,
      );
    }
  }
  if (resolved.healthPath !== undefined && resolved.healthPath === resolved.metricsPath)
    throw new TypeError('healthPath and metricsPath must differ');
  positive('maxConnections', resolved.maxConnections, Number.MAX_SAFE_INTEGER);
  positive('readSlabSize', resolved.readSlabSize, 1 << 26);
  if (resolved.readSlabSize < 1024) throw new RangeError('readSlabSize must be at least 1024 bytes');
  positive('maxBufferedBytes', resolved.maxBufferedBytes, Number.MAX_SAFE_INTEGER);
  positive('maxMemoryBytes', resolved.maxMemoryBytes, Number.MAX_SAFE_INTEGER);
  if (resolved.backpressure !== 'close' && resolved.backpressure !== 'drop')
    throw new RangeError("backpressure must be 'close' or 'drop'");
  for (const name of [
    'minFragmentSize',
    'handshakeTimeoutMs',
    'idleTimeoutMs',
    'closeTimeoutMs',
    'pingIntervalMs',
    'slowMessageTimeoutMs',
    'minMessageRate',
    'keepAliveMs',
    'poolRetainedBytes',
  ] as const) {
    positive(name, resolved[name], 2 ** 31 - 1, true);
  }
  if (
    resolved.pingIntervalMs !== 0 &&
    resolved.idleTimeoutMs !== 0 &&
    resolved.idleTimeoutMs <= resolved.pingIntervalMs
  ) {
    throw new RangeError(
      'idleTimeoutMs must be longer than pingIntervalMs, so a ping can be answered before the connection is dropped',
    );
  }
  if (resolved.deflate !== 'off' && resolved.deflate !== 'shared' && resolved.deflate !== 'window')
    throw new RangeError("deflate must be 'off', 'shared' or 'window'");
  positive('deflateThreshold', resolved.deflateThreshold, 2 ** 31 - 1, true);
  within('deflateWindowBits', resolved.deflateWindowBits, 9, 15);
  within('deflateMemLevel', resolved.deflateMemLevel, 1, 9);
  within('deflateLevel', resolved.deflateLevel, -1, 9);
  positive('maxDeflateBytes', resolved.maxDeflateBytes, Number.MAX_SAFE_INTEGER, true);
  const hosts = options.allowedHosts;
  if (hosts !== undefined) {
    if (
      !Array.isArray(hosts) ||
      hosts.length === 0 ||
      hosts.some((h) => typeof h !== 'string' || !/^[^\s/@]+$/.test(h))
    )
      throw new TypeError(
        `allowedHosts must be a list of host names such as ['localhost'], not ${JSON.stringify(hosts)}`,
      );
    resolved.allowedHosts = hosts.map(normalizeAllowedHost);
  }
  if (!(resolved.logLevel in LEVELS)) throw new RangeError(`logLevel must be one of ${Object.keys(LEVELS).join(', ')}`);
  return resolved;
}

function positive(name: string, value: number, max: number, zeroAllowed = false): void {
  if (!Number.isInteger(value) || value < (zeroAllowed ? 0 : 1) || value > max) {
    throw new RangeError(`${name} must be an integer from ${zeroAllowed ? 0 : 1} to ${max}, not ${value}`);
  }
}

function within(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, not ${value}`);
}
