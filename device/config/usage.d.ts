export declare function deviceConfigUsage(): string;
