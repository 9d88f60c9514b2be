import type { PolyMongo } from '@polymongo/native';
import { type Handler, sendJson } from '../http.js';

/**
 * Liveness of the database side: 200 with `{ status: 'ok', state, latencyMS }` when connected and answering a
 * ping, 503 with the state and error otherwise.
 *
 * @example
 * app.get('/health', healthHandler(poly));
 */
export function healthHandler(poly: PolyMongo): Handler {
  return (_req, res) => {
    poly.health().then(
      (report) =>
        sendJson(res, report.ok ? 200 : 503, {
          status: report.ok ? 'ok' : 'unavailable',
          state: report.state,
          latencyMS: report.latencyMS === undefined ? null : Math.round(report.latencyMS * 100) / 100,
          ...(report.error ? { error: report.error } : {}),
          pools: report.pools,
        }),
      (error: unknown) => sendJson(res, 503, { status: 'unavailable', state: poly.state, error: { message: String(error) } }),
    );
  };
}

/**
 * Readiness: like health, and also 503 while the client is closing, so a load balancer stops sending traffic
 * during a graceful shutdown.
 */
export function readyHandler(poly: PolyMongo): Handler {
  const health = healthHandler(poly);
  return (req, res, next) => {
    if (poly.core.isClosing) {
      sendJson(res, 503, { status: 'closing', state: poly.state, latencyMS: null });
      return;
    }
    health(req, res, next);
  };
}
