import { errorText } from '../../src/describe.js'

/**
 * A pool-reset resource failed in a lifecycle phase. `resource` is the resource's name as it
 * appears in the phase report; `cause` keeps the driver's error, when there is one.
 */
export class PoolResetError extends Error {
  override name = 'PoolResetError'
  /** The resource's name, as in the phase report (`pool-reset:<name>`). */
  readonly resource: string

  constructor(resource: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.resource = resource
  }
}

/**
 * Work was still running on a resource when `drainTimeoutMs` ran out before the snapshot, and
 * the middleware could not close it by force: a custom resource or a MongoClient whose
 * `close()` did not finish, or pg clients checked out before the middleware was built. The
 * snapshot is not taken: finish (await) that work during init, or raise `drainTimeoutMs`.
 */
export class PoolResetDrainTimeoutError extends PoolResetError {
  override name = 'PoolResetDrainTimeoutError'
  /** Connections still busy when the drain time ran out. */
  readonly busy: number
  /** The drain time that ran out, in milliseconds. */
  readonly drainTimeoutMs: number

  /**
   * @param what - what was still running, for the message; default
   *   `<busy> connection(s) were still busy`.
   */
  constructor(resource: string, busy: number, drainTimeoutMs: number, what?: string) {
    super(
      resource,
      `pool-reset: "${shortName(resource)}": ` +
        `${what ?? `${busy} connection(s) were still busy`} after ` +
        `${drainTimeoutMs} ms before the snapshot, and cannot be closed by force. Await the ` +
        'work started during init, or raise drainTimeoutMs.',
    )
    this.busy = busy
    this.drainTimeoutMs = drainTimeoutMs
  }
}

/**
 * A resource could not be opened again after the restore, within the time left of the
 * restore budget: the server refused, failed, or did not answer in time.
 */
export class PoolResetReopenError extends PoolResetError {
  override name = 'PoolResetReopenError'
  /** Milliseconds spent trying before giving up. */
  readonly elapsedMs: number

  constructor(resource: string, elapsedMs: number, cause: unknown) {
    const reason = errorText(cause, 'it did not answer in time')
    super(
      resource,
      `pool-reset: "${shortName(resource)}" could not reopen after the restore (${reason}) after ` +
        `${Math.round(elapsedMs)} ms. Check that the server is reachable from the restored ` +
        'environment.',
      { cause },
    )
    this.elapsedMs = elapsedMs
  }
}

/**
 * A resource's name without the `pool-reset:` prefix it has in reports, for messages that
 * already start with `pool-reset:`.
 */
export function shortName(resource: string): string {
  return resource.startsWith('pool-reset:') ? resource.slice('pool-reset:'.length) : resource
}
