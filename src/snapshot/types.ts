import type { PhaseReport } from '../types.js'

/** Options of `buildSnapshot`. */
export interface BuildSnapshotOptions {
  /** Path to the handler file (.js, .mjs, .cjs, .ts, ...), relative to `cwd` or absolute. */
  handler: string
  /** The export to call, default `handler`. Dotted paths (`api.get`) reach nested exports. */
  export?: string
  /**
   * Environment of the build, over the one Lambda sets (`_HANDLER`, `LAMBDA_TASK_ROOT`,
   * `AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`, `AWS_REGION`, ... with this machine's
   * `PATH`). Nothing else of this process's environment is passed on: no credentials. The
   * restores reuse it. Values read during init keep their build-time value in every
   * restored environment. `snapshot.json` records only the names of these variables.
   */
  env?: Record<string, string>
  /**
   * Time limit of the build (init plus before-snapshot hooks), in milliseconds, 1 to
   * 2 147 483 647; default 60 000.
   */
  timeoutMs?: number
  /**
   * Directory for the bundle, the blob and `snapshot.json`. Default: a new directory under
   * `os.tmpdir()`. Either way they stay after the build: `removeSnapshot(built)` deletes
   * them, and the directory once nothing else is left in it.
   */
  outDir?: string
  /**
   * Node and V8 flags (`--max-old-space-size=256`, ...) for the build; restores and the
   * cold-start comparison reuse them, since V8 flags must match. Default none.
   */
  execArgv?: string[]
  /** Directory `handler` is relative to and the processes start in, default `process.cwd()`. */
  cwd?: string
  /** Where the build's stdout/stderr lines go, default nowhere (they are kept in errors). */
  onLog?: LogListener
  /**
   * Aborting it stops the build: the build process is killed (SIGKILL) and the call rejects
   * with `SnapshotAbortedError`.
   */
  signal?: AbortSignal
}

/** Receives one line a snapshot process wrote to stdout or stderr. */
export type LogListener = (line: string, stream: 'stdout' | 'stderr') => void

/**
 * What `buildSnapshot` produced. It is also written to `snapshot.json` beside the blob,
 * with the names of the `env` variables instead of their values. The files stay on disk
 * until `removeSnapshot` deletes them.
 */
export interface BuiltSnapshot {
  /** The startup snapshot blob (`node --snapshot-blob <blob>` restores it). */
  blob: string
  /** The bundled entry the blob was built from; plain `node <bundle>` is the cold start. */
  bundle: string
  /** The directory holding both. */
  outDir: string
  /** The handler file and export that were bundled. */
  handler: string
  export: string
  /** Size of the blob, in bytes. */
  sizeBytes: number
  /** Milliseconds esbuild took to bundle. */
  bundleMs: number
  /** Milliseconds from starting the build process to its exit with the blob written. */
  buildMs: number
  /** Milliseconds init (loading the handler module) took inside the build. */
  initMs: number
  /** The before-snapshot phase, with each hook's timing. */
  beforeSnapshot: PhaseReport
  /** The node binary that built the blob; only it can restore it. */
  execPath: string
  /** Its version (`process.version` form). */
  nodeVersion: string
  /** The flags the blob was built with; restores use the same. */
  execArgv: string[]
  /**
   * The environment given to the build (`BuildSnapshotOptions.env`), kept in memory only:
   * `snapshot.json` holds its names, and a snapshot read back from it has `{}` here.
   */
  env: Record<string, string>
}

/** Options of `restoreSnapshot`. */
export interface RestoreSnapshotOptions {
  /** How many processes to restore the snapshot into, in parallel; default 1, at most 64. */
  environments?: number
  /** The events each environment handles in turn, after its after-restore hooks; default `[{}]`. */
  events?: unknown[]
  /**
   * Environment of the restored processes, over the build's `env` and the one Lambda sets.
   * Restoring from a path (read from `snapshot.json`, which keeps no values) needs every
   * variable the build was given here again; a missing one throws a `TypeError`.
   */
  env?: Record<string, string>
  /**
   * Time limit per process, in milliseconds, 1 to 2 147 483 647; default 30 000. The process
   * is killed after it.
   */
  timeoutMs?: number
  /**
   * The function timeout, in milliseconds, 1 to 2 147 483 647; default 3 000 (Lambda's).
   * Each invocation's `context.getRemainingTimeInMillis()` counts down from it. The
   * invocation is not stopped when it runs out: `timeoutMs` limits the process.
   */
  functionTimeoutMs?: number
  /**
   * Also measure a cold start: the same bundle in a plain node process, init plus the first
   * event, run after the restored environments. Default `true`.
   */
  coldStart?: boolean
  /** Where the processes' stdout/stderr lines go, default nowhere. */
  onLog?: (line: string, stream: 'stdout' | 'stderr', environment: number | 'cold') => void
  /**
   * Aborting it stops the restore: every restored (or cold-started) process is killed
   * (SIGKILL), none is started after, and the call rejects with `SnapshotAbortedError`.
   */
  signal?: AbortSignal
}

/** The outcome of one event. */
export interface SnapshotInvocation {
  index: number
  status: 'ok' | 'error'
  /** The handler's response (`undefined` becomes `null`), when `status` is `ok`. */
  response?: unknown
  /** The error's class name and message, when `status` is `error`. */
  error?: { errorType: string; errorMessage: string }
  /** Milliseconds the handler took. */
  durationMs: number
}

/** One process's failure. */
export interface SnapshotProcessFailure {
  /**
   * `afterRestore` (a hook failed, exit 65), `init`, `events`, `timeout` (killed after
   * `timeoutMs`) or `crash` (any other exit before all events were handled).
   */
  kind: 'afterRestore' | 'init' | 'events' | 'timeout' | 'crash'
  message: string
  exitCode: number | null
  signal: NodeJS.Signals | null
}

/** One restored environment. */
export interface RestoredEnvironment {
  /** 0-based. */
  index: number
  pid: number | undefined
  /** Milliseconds from spawning the process to the end of its after-restore hooks. */
  restoreMs: number | undefined
  /** Milliseconds from spawning the process to the first event's response. */
  firstInvocationMs: number | undefined
  /** The after-restore phase, with each hook's timing. */
  afterRestore: PhaseReport | undefined
  responses: SnapshotInvocation[]
  /** Set when the environment did not handle every event. */
  failure?: SnapshotProcessFailure
  /** The process's last stdout/stderr lines. */
  output: string
}

/** The cold-start comparison: the same handler in a plain node process. */
export interface ColdStart {
  pid: number | undefined
  /** Milliseconds from spawning the process to the end of init. */
  initMs: number | undefined
  /** Milliseconds from spawning the process to the first event's response. */
  firstInvocationMs: number | undefined
  response: SnapshotInvocation | undefined
  failure?: SnapshotProcessFailure
  output: string
}

/** What `restoreSnapshot` measured. */
export interface RestoreResult {
  environments: RestoredEnvironment[]
  coldStart: ColdStart | undefined
  /** The snapshot's size in bytes and build time in ms, repeated for reports. */
  sizeBytes: number
  buildMs: number
  /** How many environments failed. */
  failed: number
}
