export declare const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
export type Labels = Readonly<Record<string, string>>;
export declare function assertMetricName(name: string): void;
export declare function assertLabelNames(metric: string, labels: Labels): void;
/** Label values escape backslash, double quote and line feed (format 0.0.4). */
export declare function escapeLabelValue(value: string): string;
/** HELP text escapes only backslash and line feed. */
export declare function escapeHelp(text: string): string;
export declare function formatValue(v: number): string;
/** `{a="x",b="y"}` in the labels' own order (the registered order); '' when there are none. */
export declare function formatLabels(labels: Labels, extra?: [string, string]): string;
export declare function headerLines(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): string;
