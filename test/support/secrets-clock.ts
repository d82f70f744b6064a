import { performance } from 'node:perf_hooks'

/**
 * A wall clock for the fake AWS endpoints: real time plus an offset the test advances.
 * It reads the monotonic clock, so faking `Date` in the test process does not move it.
 */
export interface FakeClock {
  /** Milliseconds since the epoch, as the endpoint sees them. */
  now(): number
  /** Moves this clock forward by `ms` milliseconds. */
  advance(ms: number): void
}

export function createClock(): FakeClock {
  let offset = 0
  return {
    now: () => Math.round(performance.timeOrigin + performance.now()) + offset,
    advance(ms) {
      offset += ms
    },
  }
}
