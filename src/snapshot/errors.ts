import type { PhaseReport } from '../types.js'
import { describeAbortReason } from './child-processes.js'

/** Base class of every error the snapshot mode throws; `output` is the process's last lines. */
export class SnapshotError extends Error {
  override name = 'SnapshotError'
  /** The last lines the build process wrote to stdout and stderr, when there was one. */
  readonly output: string

  constructor(message: string, options: { cause?: unknown; output?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.output = options.output ?? ''
  }
}

/** esbuild could not bundle the handler into one CommonJS file. `errors` are its messages. */
export class SnapshotBundleError extends SnapshotError {
  override name = 'SnapshotBundleError'
  /** esbuild's messages, each `file:line: text`. */
  readonly errors: readonly string[]

  constructor(message: string, errors: readonly string[], cause?: unknown) {
    super(message, { cause })
    this.errors = errors
  }
}

/**
 * The handler (or a module it imports) needs ESM, which a startup snapshot cannot load: a
 * snapshot is built from one CommonJS file. `feature` is `top-level await` or `import.meta`.
 */
export class SnapshotEsmOnlyError extends SnapshotBundleError {
  override name = 'SnapshotEsmOnlyError'
  /** What made the module ESM-only. */
  readonly feature: 'top-level await' | 'import.meta'
  /** Where, as `file:line`. */
  readonly location: string

  constructor(feature: 'top-level await' | 'import.meta', location: string, errors: string[]) {
    const fix =
      feature === 'top-level await'
        ? 'Start the work at module load without awaiting it and await the promise in the ' +
          'handler (or in a before-snapshot hook), or move it into an after-restore hook.'
        : 'Use __filename / __dirname, a path from an environment variable, or a path ' +
          'relative to process.cwd() instead.'
    super(
      `Cannot build a startup snapshot: ${location} uses ${feature}, which only ESM supports, ` +
        `and a startup snapshot is built from one CommonJS bundle. ${fix}`,
      errors,
    )
    this.feature = feature
    this.location = location
  }
}

/**
 * Init failed while the snapshot was being built: the handler threw at module load, the
 * export is missing, or a before-snapshot hook failed (`phase: 'beforeSnapshot'`, with the
 * phase `report`).
 */
export class SnapshotInitError extends SnapshotError {
  override name = 'SnapshotInitError'
  /** `init` (loading the handler) or `beforeSnapshot` (a hook failed). */
  readonly phase: 'init' | 'beforeSnapshot'
  /** The before-snapshot report, when that phase failed. */
  readonly report: PhaseReport | undefined

  constructor(
    message: string,
    details: { phase: 'init' | 'beforeSnapshot'; report?: PhaseReport; output?: string },
  ) {
    super(message, { output: details.output })
    this.phase = details.phase
    this.report = details.report
  }
}

/**
 * `http`, `https`, `http2`, `tls` or `fetch` was loaded while the snapshot was being built.
 * Node cannot keep their native state in a startup snapshot: Node 20 fails to load them and
 * later versions abort while writing the snapshot.
 */
export class SnapshotHttpError extends SnapshotError {
  override name = 'SnapshotHttpError'
  /** The module that was loaded (`http`, `node:https`, ...) or `fetch`. */
  readonly module: string

  constructor(module: string, nodeVersion: string, where: string, output?: string) {
    const what = module === 'fetch' ? 'fetch() was called' : `"${module}" was loaded`
    super(
      `Cannot build a startup snapshot: ${what} during init${where}. Node ${nodeVersion} ` +
        'cannot keep http, https, http2, tls or fetch in a startup snapshot (the build fails ' +
        'or V8 aborts). Load it after the restore: require it inside the handler or in an ' +
        "after-restore hook (for example `const http = await import('node:http')`), and " +
        'create HTTP clients (AWS SDK clients too) lazily on first use.',
      { output },
    )
    this.module = module
  }
}

/**
 * Sockets, servers, timers or other handles were still alive after the before-snapshot
 * hooks. A startup snapshot cannot hold them: the build would hang or abort.
 */
export class SnapshotLiveHandlesError extends SnapshotError {
  override name = 'SnapshotLiveHandlesError'
  /** The kinds still alive (`TCPSocketWrap`, `Timeout`, ...), one entry per handle. */
  readonly resources: readonly string[]

  constructor(resources: readonly string[], output?: string) {
    super(
      'Cannot build a startup snapshot: after the before-snapshot hooks these handles were ' +
        `still alive: ${describeResources(resources)}. Close them in a before-snapshot hook ` +
        '(and reopen them in an after-restore hook; registerResource does both).',
      { output },
    )
    this.resources = resources
  }
}

/** The build did not finish within its time limit and was killed. */
export class SnapshotBuildTimeoutError extends SnapshotError {
  override name = 'SnapshotBuildTimeoutError'
  /** The limit, in milliseconds. */
  readonly timeoutMs: number
  /** What the build was doing when it was killed. */
  readonly stage: 'init' | 'beforeSnapshot' | 'snapshot'

  constructor(timeoutMs: number, stage: 'init' | 'beforeSnapshot' | 'snapshot', output: string) {
    const doing = {
      init: 'loading the handler (init) had not finished',
      beforeSnapshot: 'the before-snapshot hooks had not finished',
      snapshot: 'the snapshot was still being written (something kept the event loop busy)',
    }[stage]
    super(
      `The snapshot build was killed after ${timeoutMs} ms: ${doing}. Find what init waits ` +
        'for (a promise that never settles, a connection that never opens), or raise timeoutMs.',
      { output },
    )
    this.timeoutMs = timeoutMs
    this.stage = stage
  }
}

/** The build process failed in another way (V8 aborted, or it exited without a snapshot). */
export class SnapshotBuildError extends SnapshotError {
  override name = 'SnapshotBuildError'
  /** The build process's exit code (`null` when a signal ended it). */
  readonly exitCode: number | null
  /** The signal that ended it, if any. */
  readonly signal: NodeJS.Signals | null

  constructor(
    message: string,
    details: { exitCode: number | null; signal: NodeJS.Signals | null; output: string },
  ) {
    super(message, { output: details.output })
    this.exitCode = details.exitCode
    this.signal = details.signal
  }
}

/**
 * `buildSnapshot` or `restoreSnapshot` was stopped through its `signal` option: every
 * process it had started was killed (SIGKILL) and has exited, and nothing was measured.
 */
export class SnapshotAbortedError extends SnapshotError {
  override name = 'SnapshotAbortedError'
  /** What was stopped: the build, or the restored (and cold-started) processes. */
  readonly stage: 'build' | 'restore'

  constructor(stage: 'build' | 'restore', reason: unknown, output?: string) {
    const what = stage === 'build' ? 'snapshot build' : 'snapshot restore'
    super(
      `The ${what} was aborted${describeAbortReason(reason)}: none of its processes is left ` +
        'running',
      { output },
    )
    this.stage = stage
  }
}

/** The snapshot was built by another Node version than the one asked to restore it. */
export class SnapshotMismatchError extends SnapshotError {
  override name = 'SnapshotMismatchError'
}

const KINDS: Record<string, string> = {
  TCPSocketWrap: 'a TCP socket',
  TCPServerWrap: 'a TCP server',
  PipeWrap: 'a pipe or Unix socket',
  PipeServerWrap: 'a pipe server',
  UDPWrap: 'a UDP socket',
  Timeout: 'a timer from setTimeout or setInterval',
  Immediate: 'a setImmediate',
  TTYWrap: 'a terminal stream',
  FSEventWrap: 'a file watcher',
  StatWatcher: 'a file watcher (fs.watchFile)',
  ProcessWrap: 'a child process',
  SignalWrap: 'a signal listener',
  ConnectWrap: 'a connection being opened',
  TCPConnectWrap: 'a connection being opened',
  GetAddrInfoReqWrap: 'a DNS lookup',
  FSReqCallback: 'a file system call',
  FSReqPromise: 'a file system call',
}

/** `TCPSocketWrap (a TCP socket) x2, Timeout (a timer ...)` */
export function describeResources(resources: readonly string[]): string {
  const counts = new Map<string, number>()
  for (const kind of resources) counts.set(kind, (counts.get(kind) ?? 0) + 1)
  return [...counts]
    .map(([kind, count]) => {
      const known = KINDS[kind] === undefined ? '' : ` (${KINDS[kind]})`
      return `${kind}${known}${count > 1 ? ` x${count}` : ''}`
    })
    .join(', ')
}
