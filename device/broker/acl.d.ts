/** Why a filter is not a valid MQTT topic filter (section 4.7.1), or undefined when it is. */
export declare function filterProblem(filter: string): string | undefined;
/**
 * Does `grant` match every topic that `requested` can match? `a/#` covers `a`, `a/+/b` and
 * `a/#`; `a/+` covers `a/b` but not `a/#`; `#` covers everything except `$`-topics.
 */
export declare function filterCovers(grant: string, requested: string): boolean;
/** What one client may do once authenticated. */
export interface Grants {
    publish: readonly string[];
    subscribe: readonly string[];
    /** May set the RETAIN flag on a PUBLISH (or its will). */
    retain: boolean;
}
/** Everything, including `$SYS/#`: the open broker of `broker.allowAnonymous` and of loopback without users. */
export declare const ALL_GRANTS: Grants;
export declare function mayPublish(g: Grants, topic: string): boolean;
export declare function maySubscribe(g: Grants, filter: string): boolean;
