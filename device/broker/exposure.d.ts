/** Is `host` reachable only from this machine (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, localhost)? */
export declare function isLoopbackHost(host: string): boolean;
/** Whether clients without a user name may connect: `allowAnonymous` if set, else only when there are no users. */
export declare function anonymousAllowed(users: number, allowAnonymous: boolean | undefined): boolean;
/**
 * What is wrong with this combination, or undefined: no users with allowAnonymous false (no
 * one could connect), or no users on a host beyond loopback without allowAnonymous: true.
 */
export declare function exposureProblem(host: string, users: number, allowAnonymous: boolean | undefined): string | undefined;
