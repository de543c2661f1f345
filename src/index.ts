/**
 * lightws: a WebSocket server built to hold a million idle connections.
 * The public API; everything else is internal.
 */
export { createServer, Server, type ServerOptions, type CloseResult, type TransportChoice } from './server.js';
export { startCluster, type ClusterOptions, type ClusterPrimary, type ClusterWorker, type ClusterStats } from './cluster.js';
export { createClient, Client, type ClientOptions, type ClientHandlers, type ConnectOptions } from './client.js';
export type { ClientRequest, ClientResponse } from './reactor/client-request.js';
export { Connection } from './reactor/connection.js';
export type { Handlers, HandshakeRequest, UpgradeDecision, UpgradeAcceptance, UpgradeRefusal } from './reactor/handlers.js';
export type { DeflateMode, EndpointOptions, LogLevel } from './reactor/options.js';
export { DEFAULTS } from './reactor/options.js';
export type { DeflateStats, StatsSnapshot } from './reactor/stats.js';
export { SendResult, type SendData } from './reactor/send-result.js';
export type { ListenAddress } from './transport/listen-address.js';
export { CloseCode, closeCodeName } from './protocol/close-code.js';
export { ProtocolError, ErrorKind } from './protocol/protocol-error.js';
export type { PoolStats } from './pool/buffer-pool.js';
export { VERSION } from './version.js';
