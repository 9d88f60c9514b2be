export { type DashboardOptions, type DashboardSnapshot, dashboardHandler } from './dashboard/dashboardHandler.js';
export { healthHandler, readyHandler } from './health/healthHandler.js';
export type { Handler } from './http.js';
export { createMetrics, type MetricsOptions, metricsHandler, type PolyMongoMetrics } from './metrics/metricsHandler.js';
