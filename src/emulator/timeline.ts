import type { TimelineStep } from './types.js'

/** How `renderTimeline` draws. */
export interface TimelineStyle {
  /** Use ANSI colours for the status marks. Default `false`. */
  color?: boolean
  /** Width of the longest step's bar, in characters. Default 30. */
  barWidth?: number
}

const LABELS: Record<Exclude<TimelineStep['kind'], 'hook' | 'invoke'>, string> = {
  init: 'init',
  beforeSnapshot: 'before-snapshot',
  frozen: 'frozen',
  restore: 'restore',
  afterRestore: 'after-restore',
}

const COLORS: Record<TimelineStep['status'], string> = {
  ok: '\u001b[32m',
  failed: '\u001b[31m',
  skipped: '\u001b[2m',
  'timed-out': '\u001b[33m',
}
const RESET = '\u001b[0m'
const PARTIAL_BLOCKS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉']

/**
 * Draws the steps of a run as text, one line per step in the order given: label (hooks
 * indented under their phase, invocations numbered from 1), status mark, duration in
 * milliseconds with one decimal, and a bar proportional to the duration (the longest step
 * gets the full width). A last line gives the total and, when the run restored and
 * answered, the time from the start of the restore to the end of the first invocation.
 * Ends with a newline.
 */
export function renderTimeline(steps: readonly TimelineStep[], style: TimelineStyle = {}): string {
  if (steps.length === 0) return 'timeline: no step ran\n'
  const barWidth = style.barWidth ?? 30
  let invocations = 0
  const labels = steps.map((step) =>
    step.kind === 'invoke' ? `invoke #${++invocations}` : label(step),
  )
  const durations = steps.map((step) => formatMs(step.durationMs))
  const labelWidth = Math.max(...labels.map((text) => text.length))
  const durationWidth = Math.max(...durations.map((text) => text.length))
  const longest = Math.max(...steps.map((step) => step.durationMs))

  const lines = steps.map((step, index) => {
    const mark = paint(step.status.padEnd(9), step.status, style.color === true)
    const duration = `${durations[index]!.padStart(durationWidth)} ms`
    const bar = drawBar(step.durationMs, longest, barWidth)
    return `${labels[index]!.padEnd(labelWidth)}  ${mark}  ${duration}  ${bar}`.trimEnd()
  })
  return `${[...lines, summary(steps)].join('\n')}\n`
}

/** `12.345` → `"12.3"`; negative or non-finite values count as 0. */
export function formatMs(ms: number): string {
  return (Number.isFinite(ms) && ms > 0 ? ms : 0).toFixed(1)
}

function label(step: TimelineStep): string {
  if (step.kind === 'hook') return `  ${step.name}`
  const base = LABELS[step.kind as Exclude<TimelineStep['kind'], 'hook' | 'invoke'>]
  return step.name === '' || step.name === base || step.name === step.kind
    ? base
    : `${base} ${step.name}`
}

/** A bar in eighths of a character; any step that took time shows at least a sliver. */
function drawBar(ms: number, longest: number, width: number): string {
  if (!(ms > 0) || !(longest > 0)) return ''
  const eighths = Math.max(1, Math.round((ms / longest) * width * 8))
  return '█'.repeat(Math.floor(eighths / 8)) + PARTIAL_BLOCKS[eighths % 8]
}

function paint(text: string, status: TimelineStep['status'], color: boolean): string {
  return color ? `${COLORS[status]}${text}${RESET}` : text
}

function summary(steps: readonly TimelineStep[]): string {
  const start = Math.min(...steps.map((step) => step.startMs))
  const end = Math.max(...steps.map((step) => step.startMs + step.durationMs))
  let text = `total ${formatMs(end - start)} ms`

  const restore = steps.find((step) => step.kind === 'restore' || step.kind === 'afterRestore')
  const first = steps.find(
    (step) => step.kind === 'invoke' && step.startMs >= (restore?.startMs ?? 0),
  )
  if (restore !== undefined && first !== undefined && first.status === 'ok') {
    const ms = first.startMs + first.durationMs - restore.startMs
    text += `, restore to first response ${formatMs(ms)} ms`
  }
  return text
}
