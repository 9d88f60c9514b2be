import { type HealthOptions, type PolyMongo, redactText } from '@polymongo/native';
import { type Handler, sendJson } from '../http.js';

/**
 * Liveness of the database side: 200 with `{ status: 'ok', state, latencyMS }` when connected and answering a
 * ping, 503 with the state and error otherwise — within `timeoutMS` (default 2 s), even while the server is down.
 *
 * @example
 * app.get('/health', healthHandler(poly, { timeoutMS: 1000 }));
 */
export function healthHandler(poly: PolyMongo, options: HealthOptions = {}): Handler {
  return (_req, res) => {
    poly.health(options).then(
      (report) =>
        sendJson(res, report.ok ? 200 : 503, {
          status: report.ok ? 'ok' : 'unavailable',
          state: report.state,
          latencyMS: report.latencyMS === undefined ? null : Math.round(report.latencyMS * 100) / 100,
          ...(report.error ? { error: report.error } : {}),
          pools: report.pools,
        }),
      (error: unknown) => sendJson(res, 503, { status: 'unavailable', state: poly.state, error: { message: redactText(String(error)) } }),
    );
  };
}

/**
 * Readiness: like health, and also 503 while the client is closing, so a load balancer stops sending traffic
 * during a graceful shutdown.
 */
export function readyHandler(poly: PolyMongo, options: HealthOptions = {}): Handler {
  const health = healthHandler(poly, options);
  return (req, res, next) => {
    if (poly.isClosing) {
      sendJson(res, 503, { status: 'closing', state: poly.state, latencyMS: null });
      return;
    }
    health(req, res, next);
  };
}
