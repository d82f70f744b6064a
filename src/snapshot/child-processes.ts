// What stops the child processes this package starts (the emulator's runtime, the snapshot
// builds and restores) when this process goes first or the caller aborts.

/** What the `process.on('exit')` listener kills: one function per live child process. */
const killsOnExit = new Set<() => void>()

/** Runs every registered kill, synchronously, as this process exits. */
function killAllOnExit(): void {
  for (const kill of killsOnExit) kill()
}

/**
 * Registers `kill` to run if this process exits while the child it kills lives, so a
 * script that ends without stopping its children leaves none behind. One listener serves
 * every child, so many children do not trip the max-listeners warning. Call
 * `forgetOnProcessExit(kill)` as soon as the child has exited: its pid may then be reused.
 */
export function killOnProcessExit(kill: () => void): void {
  if (killsOnExit.size === 0) process.on('exit', killAllOnExit)
  killsOnExit.add(kill)
}

/** Takes back a `killOnProcessExit` registration; the listener goes with the last one. */
export function forgetOnProcessExit(kill: () => void): void {
  if (!killsOnExit.delete(kill)) return
  if (killsOnExit.size === 0) process.off('exit', killAllOnExit)
}

/**
 * ` (reason)` for the reason of an aborted signal worth showing in a message, empty for a
 * bare `abort()` (whose reason is an `AbortError`).
 */
export function describeAbortReason(reason: unknown): string {
  if (reason instanceof Error) return reason.name === 'AbortError' ? '' : ` (${reason.message})`
  return typeof reason === 'string' && reason !== '' ? ` (${reason})` : ''
}
