/**
 * lightws: a WebSocket server built to hold a million idle connections.
 * The public API; everything else is internal.
 */
export { createServer, type Server, type ServerOptions, type ServerOptionsWithData, type ServerSettings, type HandleUpgradeOptions, type CloseResult, type TransportChoice } from './server.js';
export { route, type Route, type RouteHandlersWithData } from './route.js';
export type { RouteHandlers } from './reactor/route-spec.js';
export { startCluster, type ClusterOptions, type ClusterPrimary, type ClusterWorker, type ClusterStats } from './cluster.js';
export { createClient, type Client, type ClientOptions, type ClientHandlers, type ConnectOptions, type ConnectSettings } from './client.js';
export type { ClientRequest, ClientResponse } from './reactor/client-request.js';
export type { Connection } from './reactor/public-connection.js';
export type { Clients } from './reactor/clients.js';
export type { HttpRequest, HttpResponse, RequestHandler } from './reactor/request-handler.js';
export type { Handlers, HandshakeRequest, UpgradeDecision, UpgradeAcceptance, UpgradeAcceptanceWithData, DataUpgradeDecision, UpgradeRefusal } from './reactor/handlers.js';
export type { DeflateMode, EndpointOptions, LogLevel } from './reactor/options.js';
export { DEFAULTS } from './reactor/options.js';
export type { DeflateStats, StatsSnapshot } from './reactor/stats-snapshot.js';
export { DIAGNOSTICS_CHANNELS, type OpenMessage, type CloseMessage, type RefusedMessage, type ProtocolErrorMessage, type RequestMessage } from './reactor/diagnostics.js';
export type { TopicBridge, BridgeHost, RemoteStats } from './reactor/topic-bridge.js';
export { SendResult, type SendData } from './reactor/send-result.js';
export type { ListenAddress } from './transport/listen-address.js';
export { CloseCode, closeCodeName } from './protocol/close-code.js';
export { ProtocolError, ErrorKind } from './protocol/protocol-error.js';
export type { PoolStats } from './pool/buffer-pool.js';
export { VERSION } from './version.js';
