// What both runs of the CLI print the same way: response lines, the `--json` document,
// the failure line, and a thrown error as a failure.

import type { CliDeps, RunDocument } from './cli-types.js'
import type { EmulatorFailure } from './types.js'

/** Whether the timeline on stderr is coloured: stderr is a terminal and `NO_COLOR` is unset. */
export function useColor(deps: Pick<CliDeps, 'stderr' | 'env'>): boolean {
  return deps.stderr.isTTY === true && !deps.env.NO_COLOR
}

/** Writes the whole run document to stdout, as `--json` prints it. */
export function writeDocument(document: unknown, deps: Pick<CliDeps, 'stdout'>): void {
  deps.stdout.write(`${JSON.stringify(document, null, 2)}\n`)
}

/** Writes `value` to stdout as one line of JSON: how each response is printed. */
export function writeLine(value: unknown, deps: Pick<CliDeps, 'stdout'>): void {
  deps.stdout.write(`${JSON.stringify(value)}\n`)
}

/**
 * Writes the run's failure, if any, to stderr as `snapstart: <type>: <message>`, followed
 * by ` (<exited> with code N)` when the failure carries an exit code.
 */
export function writeFailure(
  outcome: RunDocument['outcome'],
  exited: string,
  deps: Pick<CliDeps, 'stderr'>,
): void {
  if (outcome.status === 'ok') return
  const exit =
    outcome.exitCode === undefined || outcome.exitCode === null
      ? ''
      : ` (${exited} with code ${outcome.exitCode})`
  deps.stderr.write(`snapstart: ${outcome.errorType}: ${outcome.errorMessage}${exit}\n`)
}

/** What stdout shows for one invocation: the response, or Lambda's error payload. */
export function responseLine(result: {
  status: 'ok' | 'error'
  response?: unknown
  error?: unknown
}): unknown {
  return result.status === 'ok' ? (result.response ?? null) : result.error
}

/** A thrown error as a failure: its `errorType` or class name, its message, its exit code. */
export function toFailure(error: unknown): EmulatorFailure {
  const value = (typeof error === 'object' && error !== null ? error : {}) as Partial<
    EmulatorFailure & Error
  >
  const failure: EmulatorFailure = {
    errorType: value.errorType ?? value.name ?? 'Error',
    errorMessage: value.errorMessage ?? value.message ?? String(error),
  }
  if (value.exitCode !== undefined) failure.exitCode = value.exitCode
  return failure
}
