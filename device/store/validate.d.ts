import type { CommitUnit, RecordKind } from './types.js';
export declare const MAX_READ_LIMIT = 100000;
export declare function checkUnit(unit: unknown): asserts unit is CommitUnit;
export declare function checkSeq(seq: unknown, field: string): asserts seq is number;
export declare function checkSeqs(seqs: unknown): asserts seqs is number[];
export declare function checkName(v: unknown, field: string): asserts v is string;
export interface ResolvedRead {
    afterSeq: number;
    limit: number;
    kinds: RecordKind[] | null;
}
export declare function resolveRead(opts: unknown): ResolvedRead;
