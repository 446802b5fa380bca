export interface MetricsServerOptions {
    /** TCP port; 0 picks a free one (read it back from the result). */
    port: number;
    host?: string;
    metrics: {
        toPrometheus: () => string;
    };
}
export interface MetricsServer {
    port: number;
    host: string;
    /** Stops listening and drops open (keep-alive) connections; safe to call twice. */
    close: () => Promise<void>;
}
export declare const METRICS_SERVER_DEFAULTS: Readonly<{
    host: "127.0.0.1";
}>;
export declare function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer>;
