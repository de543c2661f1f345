/**
 * lightws: a WebSocket server built to hold a million idle connections.
 * The public API; everything else is internal.
 */
export {
  createServer,
  type Server,
  type ServerOptions,
  type ServerOptionsWithData,
  type ServerSettings,
  type HandleUpgradeOptions,
  type CloseResult,
  type TransportChoice,
} from './server.js';
export { route, type Route, type RouteHandlersWithData } from './route.js';
export type { RouteHandlers } from './api/route-spec.js';
export {
  startCluster,
  type ClusterOptions,
  type ClusterPrimary,
  type ClusterWorker,
  type ClusterStats,
} from './cluster/cluster.js';
export {
  createClient,
  type Client,
  type ClientOptions,
  type ClientHandlers,
  type ConnectOptions,
  type ConnectSettings,
} from './client.js';
export type { ClientRequest, ClientResponse } from './api/client-request.js';
export type {
  HandoverOptions,
  HandoverResult,
  ReloadOptions,
  ReloadResult,
  SuccessorOptions,
} from './api/handover-options.js';
export type { Connection } from './api/connection.js';
export type { Clients } from './api/clients.js';
export type { HttpRequest, HttpResponse, RequestHandler } from './api/request-handler.js';
export type {
  Handlers,
  HandshakeRequest,
  UpgradeDecision,
  UpgradeAcceptance,
  UpgradeAcceptanceWithData,
  DataUpgradeDecision,
  UpgradeRefusal,
} from './api/handlers.js';
export {
  DEFAULTS,
  type BackpressurePolicy,
  type DeflateMode,
  type EndpointOptions,
  type LogLevel,
  type TransportName,
} from './api/options.js';
export type { DeflateStats, StatsSnapshot, TlsStats } from './api/stats-snapshot.js';
export {
  DIAGNOSTICS_CHANNELS,
  type OpenMessage,
  type CloseMessage,
  type RefusedMessage,
  type ProtocolErrorMessage,
  type RequestMessage,
} from './api/diagnostics.js';
export type { TopicBridge, BridgeHost, RemoteStats } from './api/topic-bridge.js';
export { SendResult, type SendData } from './api/send-result.js';
export type { ListenAddress } from './transport/listen-address.js';
export { CloseCode, closeCodeName } from './protocol/close-code.js';
export { ProtocolError, ErrorKind } from './protocol/protocol-error.js';
export type { PoolStats } from './pool/buffer-pool.js';
export { VERSION } from './version.js';
export { limitYoungGeneration } from './young-generation.js';
