/** The roll-ups' settings (the `rollups` option with its defaults). */
export interface RollupSettings {
  /** Whether this instance executes tasks (the API is mounted either way). */
  readonly run: boolean;
  readonly pollMs: number;
  readonly leaseMs: number;
  readonly maxTasks: number;
  /** The host name statuses give as `executing_host`. */
  readonly host: string;
}
