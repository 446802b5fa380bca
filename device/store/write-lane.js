// One writer at a time, and group commit: jobs that arrive while a write is in flight wait,
// and consecutive coalescable ones (commits) then go to the runner together as one batch.
export class WriteLane {
    #queue = [];
    #run;
    #maxGroup;
    #draining = null;
    constructor(run, maxGroup = 4096) {
        this.#run = run;
        this.#maxGroup = maxGroup;
    }
    push(job, coalesce) {
        return new Promise((resolve, reject) => {
            this.#queue.push({ job, coalesce, resolve, reject });
            if (this.#draining === null)
                this.#draining = this.#drain();
        });
    }
    /** Resolves once every job pushed so far has settled. */
    async idle() {
        while (this.#draining !== null)
            await this.#draining;
    }
    async #drain() {
        // Let the caller's synchronous burst of pushes land first, so even the first write groups them.
        await Promise.resolve();
        try {
            while (this.#queue.length > 0) {
                const group = this.#take();
                try {
                    const results = await this.#run(group.map((g) => g.job));
                    group.forEach((g, i) => { g.resolve(results[i]); });
                }
                catch (err) {
                    for (const g of group)
                        g.reject(err);
                }
            }
        }
        finally {
            this.#draining = null;
        }
    }
    #take() {
        const head = this.#queue.shift();
        const group = [head];
        if (!head.coalesce)
            return group;
        while (group.length < this.#maxGroup && this.#queue.length > 0 && this.#queue[0].coalesce) {
            group.push(this.#queue.shift());
        }
        return group;
    }
}
//# sourceMappingURL=write-lane.js.map