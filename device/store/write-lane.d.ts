export interface LaneJob<J, R> {
    job: J;
    coalesce: boolean;
    resolve: (r: R) => void;
    reject: (err: unknown) => void;
}
/** Runs a group of jobs as one write; returns one result per job, or throws to fail them all. */
export type LaneRunner<J, R> = (jobs: J[]) => Promise<R[]>;
export declare class WriteLane<J, R> {
    #private;
    constructor(run: LaneRunner<J, R>, maxGroup?: number);
    push(job: J, coalesce: boolean): Promise<R>;
    /** Resolves once every job pushed so far has settled. */
    idle(): Promise<void>;
}
