import { describe, expect, it } from 'vitest'
import {
  formatBytes,
  formatMs,
  renderSnapshotTimeline,
  renderTimeline,
  type SnapshotTimeline,
} from '../../src/emulator/timeline.js'
import type { TimelineStep } from '../../src/emulator/types.js'
import type { PhaseReport } from '../../src/types.js'

const run: TimelineStep[] = [
  { kind: 'init', name: 'init', startMs: 0, durationMs: 40, status: 'ok' },
  { kind: 'beforeSnapshot', name: 'beforeSnapshot', startMs: 40, durationMs: 10, status: 'ok' },
  {
    kind: 'hook',
    phase: 'beforeSnapshot',
    name: 'database',
    startMs: 40,
    durationMs: 9.96,
    status: 'ok',
  },
  { kind: 'frozen', name: 'frozen', startMs: 50, durationMs: 80, status: 'ok' },
  { kind: 'afterRestore', name: 'afterRestore', startMs: 130, durationMs: 20, status: 'ok' },
  {
    kind: 'hook',
    phase: 'afterRestore',
    name: 'database',
    startMs: 130,
    durationMs: 15,
    status: 'ok',
  },
  {
    kind: 'hook',
    phase: 'afterRestore',
    name: 'reloadConfig',
    startMs: 145,
    durationMs: 5,
    status: 'ok',
  },
  { kind: 'invoke', name: 'a1b2c3d4-0000', startMs: 150, durationMs: 4.25, status: 'ok' },
  { kind: 'invoke', name: 'e5f6-1111', startMs: 155, durationMs: 1, status: 'failed' },
]

describe('renderTimeline', () => {
  it('draws one line per step with status, duration and a bar proportional to the longest', () => {
    expect(renderTimeline(run, { barWidth: 8 })).toBe(
      [
        'init             ok         40.0 ms  ████',
        'before-snapshot  ok         10.0 ms  █',
        '  database       ok         10.0 ms  █',
        'frozen           ok         80.0 ms  ████████',
        'after-restore    ok         20.0 ms  ██',
        '  database       ok         15.0 ms  █▌',
        '  reloadConfig   ok          5.0 ms  ▌',
        'invoke #1        ok          4.3 ms  ▍',
        'invoke #2        failed      1.0 ms  ▏',
        'total 156.0 ms, restore to first response 24.3 ms',
        '',
      ].join('\n'),
    )
  })

  it('shows skipped and timed-out hooks, and a zero-length step without a bar', () => {
    const steps: TimelineStep[] = [
      { kind: 'restore', name: 'restore', startMs: 0, durationMs: 200, status: 'timed-out' },
      {
        kind: 'hook',
        phase: 'afterRestore',
        name: 'prime',
        startMs: 0,
        durationMs: 200,
        status: 'timed-out',
      },
      {
        kind: 'hook',
        phase: 'afterRestore',
        name: 'reconnect',
        startMs: 200,
        durationMs: 0,
        status: 'skipped',
      },
    ]
    expect(renderTimeline(steps, { barWidth: 4 })).toBe(
      [
        'restore      timed-out  200.0 ms  ████',
        '  prime      timed-out  200.0 ms  ████',
        '  reconnect  skipped      0.0 ms',
        'total 200.0 ms',
        '',
      ].join('\n'),
    )
  })

  it('colours the status marks only when asked', () => {
    const steps: TimelineStep[] = [
      { kind: 'init', name: 'init', startMs: 0, durationMs: 1, status: 'ok' },
      { kind: 'invoke', name: 'a1b2c3d4-0000', startMs: 1, durationMs: 1, status: 'failed' },
    ]
    const [ok, failed] = renderTimeline(steps, { color: true, barWidth: 1 }).split('\n')
    expect(ok).toBe('init       \u001b[32mok       \u001b[0m  1.0 ms  █')
    expect(failed).toBe('invoke #1  \u001b[31mfailed   \u001b[0m  1.0 ms  █')
    expect(renderTimeline(steps)).not.toContain('\u001b[')
  })

  it('says so when no step ran', () => {
    expect(renderTimeline([])).toBe('timeline: no step ran\n')
  })
})

describe('formatMs', () => {
  it.each([
    [12.345, '12.3'],
    [0.04, '0.0'],
    [1000, '1000.0'],
    [-3, '0.0'],
    [Number.NaN, '0.0'],
  ])('formats %d as %s', (ms, text) => {
    expect(formatMs(ms)).toBe(text)
  })
})

/** A phase report with the given hooks, each `[name, ms, status]`. */
function phase(
  name: PhaseReport['phase'],
  status: PhaseReport['status'],
  hooks: [string, number, PhaseReport['hooks'][number]['status']][],
): PhaseReport {
  return {
    phase: name,
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: hooks.reduce((sum, [, ms]) => sum + ms, 0),
    status,
    budgetMs: 10_000,
    hooks: hooks.map(([hook, durationMs, hookStatus]) => ({
      name: hook,
      durationMs,
      status: hookStatus,
    })),
  }
}

describe('renderSnapshotTimeline', () => {
  const ok = (index: number, durationMs: number) =>
    ({ index, status: 'ok', response: null, durationMs }) as const

  it('draws the build, each environment with its ratio to the cold start, the cold start', () => {
    const run: SnapshotTimeline = {
      build: {
        status: 'ok',
        export: 'handler',
        sizeBytes: 4_402_193,
        bundleMs: 20,
        buildMs: 210,
        initMs: 80,
        beforeSnapshot: phase('beforeSnapshot', 'ok', [['flush', 4, 'ok']]),
        nodeVersion: 'v20.20.2',
      },
      environments: [1, 2].map((environment) => ({
        environment,
        pid: 10 + environment,
        restoreMs: 22,
        firstInvocationMs: 24,
        afterRestore: phase('afterRestore', 'ok', [['reconnect', 2, 'ok']]),
        responses: [ok(0, 1), ok(1, 0.5)],
        coldRatio: 0.3,
      })),
      coldStart: { pid: 20, initMs: 79, firstInvocationMs: 80, response: ok(0, 1) },
    }

    expect(renderSnapshotTimeline(run, { barWidth: 8 })).toBe(
      [
        'build',
        '  bundle           ok         20.0 ms  ██',
        '  init             ok         80.0 ms  ████████',
        '  before-snapshot  ok          4.0 ms  ▍',
        '    flush          ok          4.0 ms  ▍',
        '  snapshot 4.4 MB, build process 210.0 ms',
        'environment 1',
        '  start + restore  ok         20.0 ms  ██',
        '  after-restore    ok          2.0 ms  ▎',
        '    reconnect      ok          2.0 ms  ▎',
        '  invoke #1        ok          1.0 ms  ▏',
        '  invoke #2        ok          0.5 ms  ▏',
        '  first response 24.0 ms after start: 0.30 of the cold start',
        'environment 2',
        '  start + restore  ok         20.0 ms  ██',
        '  after-restore    ok          2.0 ms  ▎',
        '    reconnect      ok          2.0 ms  ▎',
        '  invoke #1        ok          1.0 ms  ▏',
        '  invoke #2        ok          0.5 ms  ▏',
        '  first response 24.0 ms after start: 0.30 of the cold start',
        'cold start',
        '  start + init     ok         79.0 ms  ███████▉',
        '  invoke #1        ok          1.0 ms  ▏',
        '  first response 80.0 ms after start',
        '',
      ].join('\n'),
    )
  })

  it('shows a failed build with its before-snapshot hooks, and nothing after it', () => {
    const run: SnapshotTimeline = {
      build: {
        status: 'failed',
        durationMs: 150,
        beforeSnapshot: phase('beforeSnapshot', 'failed', [
          ['drain', 3, 'failed'],
          ['close', 0, 'skipped'],
        ]),
      },
      environments: [],
    }

    expect(renderSnapshotTimeline(run, { barWidth: 4 })).toBe(
      [
        'build',
        '  bundle + build   failed     150.0 ms  ████',
        '  before-snapshot  failed       3.0 ms  ▏',
        '    drain          failed       3.0 ms  ▏',
        '    close          skipped      0.0 ms',
        '',
      ].join('\n'),
    )
  })

  it('ends a stopped environment with the reason, without a restore time or ratio', () => {
    const run: SnapshotTimeline = {
      build: {
        status: 'ok',
        export: 'handler',
        sizeBytes: 999,
        bundleMs: 1,
        buildMs: 2,
        initMs: 1,
        beforeSnapshot: phase('beforeSnapshot', 'ok', []),
        nodeVersion: 'v20.20.2',
      },
      environments: [
        {
          environment: 1,
          pid: 11,
          restoreMs: undefined,
          firstInvocationMs: undefined,
          afterRestore: phase('afterRestore', 'failed', [['fetchSecret', 2, 'failed']]),
          responses: [],
          failure: {
            kind: 'afterRestore',
            message: 'SnapStartPhaseError: fetchSecret failed',
            exitCode: 65,
            signal: null,
          },
        },
        {
          environment: 2,
          pid: 12,
          restoreMs: 5,
          firstInvocationMs: 6,
          afterRestore: phase('afterRestore', 'ok', []),
          responses: [{ index: 0, status: 'error', durationMs: 1 }],
        },
      ],
      coldStart: {
        pid: 20,
        initMs: 4,
        firstInvocationMs: undefined,
        response: undefined,
        failure: {
          kind: 'timeout',
          message: 'killed after 30000 ms',
          exitCode: null,
          signal: null,
        },
      },
    }

    expect(renderSnapshotTimeline(run, { barWidth: 5 })).toBe(
      [
        'build',
        '  bundle           ok         1.0 ms  █',
        '  init             ok         1.0 ms  █',
        '  before-snapshot  ok         0.0 ms',
        '  snapshot 999 B, build process 2.0 ms',
        'environment 1',
        '  after-restore    failed     2.0 ms  ██',
        '    fetchSecret    failed     2.0 ms  ██',
        '  stopped: SnapStartPhaseError: fetchSecret failed',
        'environment 2',
        '  start + restore  ok         5.0 ms  █████',
        '  after-restore    ok         0.0 ms',
        '  invoke #1        failed     1.0 ms  █',
        '  first response 6.0 ms after start',
        'cold start',
        '  start + init     ok         4.0 ms  ████',
        '  stopped: killed after 30000 ms',
        '',
      ].join('\n'),
    )
  })
})

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 kB'],
    [65_432, '65.4 kB'],
    [4_402_193, '4.4 MB'],
  ])('formats %d as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text)
  })
})
