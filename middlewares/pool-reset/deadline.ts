/** A point in time (monotonic clock) after which waiting stops, and a signal to stop sooner. */
export interface Deadline {
  /** `performance.now()` value at which time is up. */
  readonly at: number
  /** Aborted when the surrounding phase gives up. */
  readonly signal: AbortSignal
}

/** Thrown (internally) when a deadline passes before the awaited work settles. */
export class DeadlinePassed extends Error {
  override name = 'DeadlinePassed'
}

/** A deadline `ms` milliseconds from now. */
export function deadlineIn(ms: number, signal: AbortSignal): Deadline {
  return { at: performance.now() + Math.max(0, ms), signal }
}

/** Milliseconds left before `deadline`, never negative. */
export function leftMs(deadline: Deadline): number {
  return Math.max(0, deadline.at - performance.now())
}

/**
 * Resolves with `work`, or rejects with `DeadlinePassed` when the deadline passes or its
 * signal aborts first. A late rejection of `work` is observed, so it is never unhandled.
 */
export function beforeDeadline<T>(work: Promise<T>, deadline: Deadline): Promise<T> {
  work.catch(() => {})
  if (deadline.signal.aborted) return Promise.reject(new DeadlinePassed('phase aborted'))
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlinePassed('deadline passed')), leftMs(deadline))
    onAbort = () => reject(new DeadlinePassed('phase aborted'))
    deadline.signal.addEventListener('abort', onAbort, { once: true })
  })
  return Promise.race([work, stop]).finally(() => {
    clearTimeout(timer)
    if (onAbort !== undefined) deadline.signal.removeEventListener('abort', onAbort)
  })
}

/**
 * Waits until `done()` is true, checking again each time one of `events` fires on `emitter`.
 * Resolves `true` when done, `false` when the deadline passed first.
 */
export async function waitFor(
  done: () => boolean,
  emitter: NodeJS.EventEmitter,
  events: readonly string[],
  deadline: Deadline,
): Promise<boolean> {
  while (!done()) {
    let listener: (() => void) | undefined
    const changed = new Promise<void>((resolve) => {
      listener = resolve
      for (const event of events) emitter.on(event, listener)
    })
    try {
      await beforeDeadline(changed, deadline)
    } catch (error) {
      if (error instanceof DeadlinePassed) return done()
      throw error
    } finally {
      for (const event of events) emitter.off(event, listener!)
    }
  }
  return true
}

/**
 * Opens `count` connections at once with `open`, then gives each back with `release`.
 * Rejects with the first failure, or `DeadlinePassed`; connections that arrive after a
 * failure are given back too, so nothing leaks.
 */
export async function openInParallel<T>(
  count: number,
  open: () => Promise<T>,
  release: (connection: T) => void,
  deadline: Deadline,
): Promise<number> {
  const held: T[] = []
  let failed = false
  const attempts = Array.from({ length: count }, () =>
    open().then((connection) => {
      if (failed) release(connection)
      else held.push(connection)
    }),
  )
  try {
    await beforeDeadline(Promise.all(attempts), deadline)
    for (const connection of held.splice(0)) release(connection)
    return count
  } catch (error) {
    failed = true
    for (const connection of held.splice(0)) release(connection)
    throw error
  }
}
