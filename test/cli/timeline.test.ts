import { describe, expect, it } from 'vitest'
import { formatMs, renderTimeline } from '../../src/emulator/timeline.js'
import type { TimelineStep } from '../../src/emulator/types.js'

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
