import type { Context } from 'aws-lambda'
import { type MockInstance, vi } from 'vitest'
import { onPhaseEnd, reset } from '../../src/index.js'
import type { PhaseReport } from '../../src/types.js'
import { createClock, type FakeClock } from './secrets-clock.js'
import { type FakeAws, type FakeAwsOptions, startFakeAws } from './secrets-endpoint.js'
import { isolateAwsEnv, STATIC_CREDENTIALS } from './secrets-env.js'

/** Everything one secret-refresh test needs; `stop()` undoes it all. */
export interface Harness {
  readonly clock: FakeClock
  readonly aws: FakeAws
  /** Phase reports seen since the harness started. */
  readonly reports: PhaseReport[]
  /**
   * Moves both the endpoint's clock and this process's `Date` forward by exactly `ms`. The
   * process's `Date` stands still otherwise, so the two differ by the real time elapsed.
   */
  advance(ms: number): void
  /** Client options pointing both services at the fake endpoint, with static credentials. */
  clientOptions(credentials?: 'static' | 'chain'): {
    secretsManager: Record<string, unknown>
    ssm: Record<string, unknown>
  }
  /** Everything written to stdout and stderr since the harness started. */
  output(): string
  /** The JSON log lines written to stdout. */
  logLines(): Record<string, unknown>[]
  stop(): Promise<void>
}

/**
 * Resets the registry, isolates the AWS environment, fakes `Date` (only `Date`: timers and
 * the monotonic clock stay real) at the endpoint clock's time, captures output, and starts
 * a fake AWS endpoint.
 */
export async function startHarness(options: Omit<FakeAwsOptions, 'clock'> = {}): Promise<Harness> {
  reset()
  const restoreEnv = isolateAwsEnv()
  const clock = createClock()
  vi.useFakeTimers({ toFake: ['Date'], now: clock.now() })
  const aws = await startFakeAws({ ...options, clock })
  const reports: PhaseReport[] = []
  const unsubscribe = onPhaseEnd((report) => reports.push(report))

  const written: string[] = []
  const spies: MockInstance[] = [process.stdout, process.stderr].map((stream) =>
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    }),
  )

  return {
    clock,
    aws,
    reports,
    advance(ms) {
      clock.advance(ms)
      vi.setSystemTime(Date.now() + ms)
    },
    clientOptions(credentials = 'static') {
      const common = {
        endpoint: aws.url,
        region: 'us-east-1',
        ...(credentials === 'static' ? { credentials: STATIC_CREDENTIALS } : {}),
      }
      return { secretsManager: { ...common }, ssm: { ...common } }
    },
    output: () => written.join(''),
    logLines: () =>
      written
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    async stop() {
      for (const spy of spies) spy.mockRestore()
      unsubscribe()
      vi.useRealTimers()
      restoreEnv()
      reset()
      await aws.close()
    },
  }
}

/** A Lambda context with the values a middleware puts on it. */
export type SecretContext = Context & Record<string, unknown>

export function lambdaContext(): SecretContext {
  return { functionName: 'fn', awsRequestId: 'req-1' } as SecretContext
}
