// Public surface of the metrics component: the per-function registry, its Prometheus text
// and JSON snapshots, and the local scrape endpoint.
export { FunctionMetrics, METRICS_DEFAULTS } from './function-metrics.js';
export { DEFAULT_BUCKETS_SECONDS } from './histogram.js';
export { gbSecondsOf, OTHER_CODE, UNKNOWN_CODE } from './function-stats.js';
export { CONTENT_TYPE as PROMETHEUS_CONTENT_TYPE } from './exposition.js';
export { startMetricsServer, METRICS_SERVER_DEFAULTS } from './server.js';
//# sourceMappingURL=index.js.map