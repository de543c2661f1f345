import { EXPOSITION_CONTENT_TYPE } from '../../protocol/prometheus-text.js';
import type { HttpResponse } from '../../api/request-handler.js';
import type { MetricsText } from '../../api/stats-snapshot.js';

const NO_STORE = 'no-store';
const HEALTHY: HttpResponse = Object.freeze({ status: 200, headers: { 'Cache-Control': NO_STORE }, body: 'ok\n' });
const DRAINING: HttpResponse = Object.freeze({
  status: 503,
  headers: { 'Cache-Control': NO_STORE, 'Retry-After': '5' },
  body: 'draining\n',
});
const NOT_ALLOWED: HttpResponse = Object.freeze({
  status: 405,
  headers: { Allow: 'GET, HEAD' },
  body: 'Method Not Allowed\n',
});
const UNAVAILABLE: HttpResponse = Object.freeze({
  status: 503,
  headers: { 'Cache-Control': NO_STORE },
  body: 'metrics unavailable\n',
});

/**
 * The paths a server can answer by itself, switched on by `healthPath` and
 * `metricsPath`: a health check for load balancers (200, then 503 once
 * `close()` drains) and the Prometheus scrape. They come before the request
 * handler and the routes, and answer GET and HEAD only (405 otherwise).
 */
export class BuiltinRoutes {
  constructor(
    private readonly healthPath: string | undefined,
    private readonly metricsPath: string | undefined,
    /** The server reactor's metrics source: its own, or the one it was told to serve (a cluster's worker serves every worker's). */
    private readonly metrics: MetricsText,
    private readonly draining: () => boolean,
  ) {}

  /** The answer for `path`, or undefined when it is no built-in path. Never throws or rejects. */
  answer(path: string, method: string): HttpResponse | Promise<HttpResponse> | undefined {
    if (path !== this.healthPath && path !== this.metricsPath) return undefined;
    if (method !== 'GET' && method !== 'HEAD') return NOT_ALLOWED;
    if (path === this.healthPath) return this.draining() ? DRAINING : HEALTHY;
    let text: string | Promise<string>;
    try {
      text = this.metrics();
    } catch {
      return UNAVAILABLE;
    }
    return typeof text === 'string' ? scrape(text) : text.then(scrape, () => UNAVAILABLE);
  }
}

function scrape(text: string): HttpResponse {
  return { status: 200, headers: { 'Content-Type': EXPOSITION_CONTENT_TYPE, 'Cache-Control': NO_STORE }, body: text };
}
