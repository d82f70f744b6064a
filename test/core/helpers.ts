import { type MockInstance, vi } from 'vitest'

/** Captures the JSON log lines the library writes to stdout while `fn` runs. */
export function captureLogs(): { lines: () => Record<string, unknown>[]; restore: () => void } {
  const written: string[] = []
  const spy: MockInstance = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    })
  return {
    lines: () =>
      written
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () => spy.mockRestore(),
  }
}

/** Counts `unhandledRejection` events until `stop()`, which lets pending ones surface first. */
export function watchUnhandled(): { stop: () => Promise<unknown[]> } {
  const seen: unknown[] = []
  const listener = (reason: unknown) => seen.push(reason)
  process.on('unhandledRejection', listener)
  return {
    async stop() {
      await new Promise((resolve) => setImmediate(resolve))
      await new Promise((resolve) => setImmediate(resolve))
      process.off('unhandledRejection', listener)
      return seen
    },
  }
}

/** A promise with its resolve and reject exposed. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}
