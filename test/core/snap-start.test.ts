import middy7 from '@middy/core'
import type { Context } from 'aws-lambda'
import middy6 from 'middy6'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  getAfterRestore,
  onPhaseEnd,
  registerAfterRestore,
  registerResource,
  reset,
  runAfterRestore,
  runBeforeSnapshot,
  type SnapStartContext,
  SnapStartPhaseError,
  snapStart,
} from '../../src/index.js'
import { captureLogs, deferred, watchUnhandled } from './helpers.js'

type Ctx = Context & { snapStart: SnapStartContext }
const context = () => ({ functionName: 'fn', awsRequestId: 'req-1' }) as Ctx

let logs: ReturnType<typeof captureLogs>

beforeEach(() => {
  reset()
  logs = captureLogs()
})
afterEach(() => {
  logs.restore()
  delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE
})

describe.each([
  ['@middy/core 7', middy7 as unknown as typeof middy7],
  ['@middy/core 6', middy6 as unknown as typeof middy7],
])('snapStart() with %s', (_label, middy) => {
  it('runs the handler as usual without any snapshot: restored false, nothing throws', async () => {
    const handler = middy(async (_event: unknown, ctx: Ctx) => ctx.snapStart).use(snapStart())

    const seen = await handler({}, context())

    expect(seen).toEqual({
      initializationType: 'on-demand',
      restored: false,
      firstInvocationAfterRestore: false,
      priming: false,
    })
  })

  it('marks the first invocation after restore and carries both phase reports', async () => {
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'snap-start'
    registerResource({ name: 'db', beforeSnapshot() {}, afterRestore() {} })
    const handler = middy(async (_event: unknown, ctx: Ctx) => ctx.snapStart).use(snapStart())
    const before = await runBeforeSnapshot()
    const after = await runAfterRestore()

    const first = await handler({}, context())
    const second = await handler({}, context())

    expect(first).toEqual({
      initializationType: 'snap-start',
      restored: true,
      firstInvocationAfterRestore: true,
      priming: false,
      beforeSnapshot: before,
      afterRestore: after,
    })
    expect(first.afterRestore?.hooks.map((hook) => hook.name)).toEqual(['db'])
    expect(second.firstInvocationAfterRestore).toBe(false)
    expect(second.restored).toBe(true)
  })

  it('C02: the same middleware on two handlers registers its hooks once', async () => {
    const ends: string[] = []
    onPhaseEnd((report) => ends.push(report.phase))
    const shared = snapStart({ metrics: true })
    middy(async () => 1).use(shared)
    middy(async () => 2).use(shared)
    middy(async () => 3).use(snapStart({ metrics: true }))

    await runAfterRestore()

    const emf = logs.lines().filter((line) => '_aws' in line)
    expect(emf).toHaveLength(1)
    expect(ends).toEqual(['afterRestore'])
  })

  it('C03: a hook registered inside the first invocation after restore warns once', async () => {
    const handler = middy(async () => {
      registerAfterRestore(function registeredTooLate() {})
      return 'ok'
    }).use(snapStart())
    await runBeforeSnapshot()
    await runAfterRestore()

    await handler({}, context())
    await handler({}, context())

    const warnings = logs.lines().filter((line) => line.type === 'snapstart.lateRegistration')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.hook).toBe('registeredTooLate')
    expect(getAfterRestore()).toEqual([])
  })

  it('C03 strict: the same registration throws inside the invocation', async () => {
    const handler = middy(async () => {
      registerAfterRestore(function registeredTooLate() {})
    }).use(snapStart({ strict: true }))
    await runAfterRestore()

    await expect(handler({}, context())).rejects.toThrow(
      'Hook "registeredTooLate" was registered for afterRestore after that phase had already run',
    )
  })

  it('C05: an invocation during a failing restore waits, then fails; no handler call', async () => {
    const unhandled = watchUnhandled()
    const hookStarted = deferred()
    let handlerRuns = 0
    registerAfterRestore(async function fetchSecret() {
      hookStarted.resolve()
      await new Promise((resolve) => setTimeout(resolve, 10))
      throw new Error('secret fetch failed')
    })
    const handler = middy(async () => {
      handlerRuns++
    }).use(snapStart())

    const phase = runAfterRestore().catch((e: unknown) => e)
    await hookStarted.promise
    const invocation = handler({}, context()).catch((e: unknown) => e)
    const [phaseError, invocationError] = await Promise.all([phase, invocation])

    expect(invocationError).toBe(phaseError)
    expect(invocationError).toBeInstanceOf(SnapStartPhaseError)
    expect((invocationError as Error).message).toBe(
      'The after-restore hook "fetchSecret" failed: Error: secret fetch failed',
    )
    await expect(handler({}, context())).rejects.toBe(phaseError)
    expect(handlerRuns).toBe(0)
    expect(await unhandled.stop()).toEqual([])
  })

  it('an invocation during a successful restore waits for it, then runs restored', async () => {
    const gate = deferred()
    registerAfterRestore(() => gate.promise)
    const handler = middy(async (_event: unknown, ctx: Ctx) => ctx.snapStart.restored).use(
      snapStart(),
    )

    const phase = runAfterRestore()
    const invocation = handler({}, context())
    gate.resolve()

    expect(await invocation).toBe(true)
    await phase
  })

  it('C07: a handler error still fails the invocation', async () => {
    const handler = middy(async () => {
      throw new Error('handler broke')
    }).use(snapStart())

    await expect(handler({}, context())).rejects.toThrow('handler broke')
  })
})

describe('snapStart() options and metrics', () => {
  it('rejects unknown options and bad types at factory time, naming the option', () => {
    expect(() => snapStart({ metric: true } as never)).toThrow(
      'snapStart: unknown option "metric"; known options: metrics, strict, prime',
    )
    expect(() => snapStart({ metrics: 'yes' } as never)).toThrow('"metrics" must be true')
    expect(() => snapStart({ metrics: { namespace: '' } })).toThrow(
      'snapStart: "metrics.namespace" must be a CloudWatch namespace: 1 to 255 of A-Z a-z 0-9 ' +
        '. - _ / # :, not starting with "AWS/"',
    )
    expect(() => snapStart({ metrics: { namespace: 'AWS/Lambda' } })).toThrow(
      '"metrics.namespace" must be a CloudWatch namespace',
    )
    expect(() => snapStart({ metrics: { namespace: 'x', foo: 1 } as never })).toThrow(
      'snapStart: "metrics.foo" is not an option of metrics; expected namespace',
    )
    expect(() => snapStart({ strict: 1 } as never)).toThrow('"strict" must be a boolean')
    expect(() => snapStart(null as never)).toThrow('snapStart: options must be an object')
  })

  it('writes one EMF line per phase, a duration metric per hook and for the phase', async () => {
    snapStart({ metrics: { namespace: 'Orders' } })
    registerAfterRestore(function reconnect() {})
    registerAfterRestore(function reseed() {})

    await runAfterRestore()

    const emf = logs.lines().filter((line) => '_aws' in line)
    expect(emf).toHaveLength(1)
    const aws = emf[0]!._aws as { CloudWatchMetrics: { Namespace: string; Metrics: unknown }[] }
    expect(aws.CloudWatchMetrics[0]!.Namespace).toBe('Orders')
    expect(aws.CloudWatchMetrics[0]!.Metrics).toEqual([
      { Name: 'PhaseDuration', Unit: 'Milliseconds' },
      { Name: 'HookDuration.reconnect', Unit: 'Milliseconds' },
      { Name: 'HookDuration.reseed', Unit: 'Milliseconds' },
    ])
    expect(emf[0]).toMatchObject({ phase: 'afterRestore', status: 'ok' })
    expect(typeof emf[0]!['HookDuration.reseed']).toBe('number')
  })
})
