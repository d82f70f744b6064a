import type {
  BuiltSnapshot,
  ColdStart,
  RestoredEnvironment,
  SnapshotInvocation,
} from '../snapshot/types.js'
import type { PhaseReport } from '../types.js'
import type { TimelineStep } from './types.js'

/** How `renderTimeline` and `renderSnapshotTimeline` draw. */
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
  let invocations = 0
  const rows = steps.map((step): Row => {
    const text = step.kind === 'invoke' ? `invoke #${++invocations}` : label(step)
    return { label: text, status: step.status, durationMs: step.durationMs }
  })
  return draw([...rows, summary(steps)], style)
}

/** The build of a snapshot, as `renderSnapshotTimeline` shows it. */
export type SnapshotBuildReport =
  | ({ status: 'ok' } & Pick<
      BuiltSnapshot,
      'export' | 'sizeBytes' | 'bundleMs' | 'buildMs' | 'initMs' | 'beforeSnapshot' | 'nodeVersion'
    >)
  | {
      status: 'failed'
      /** Milliseconds from the start of the bundle to the failure. */
      durationMs: number
      /** The before-snapshot report, when that phase ran and failed. */
      beforeSnapshot?: PhaseReport
    }

/** One restored environment, numbered from 1, as `renderSnapshotTimeline` shows it. */
export interface SnapshotEnvironmentReport extends Omit<RestoredEnvironment, 'index' | 'output'> {
  /** 1-based. */
  environment: number
  /** `firstInvocationMs` divided by the cold start's, when both are known. */
  coldRatio?: number
}

/** The cold start of the same handler, as `renderSnapshotTimeline` shows it. */
export type SnapshotColdStartReport = Omit<ColdStart, 'output'>

/** What a `--snapshot v8` run measured: the build, each environment, the cold start. */
export interface SnapshotTimeline {
  build: SnapshotBuildReport
  environments: readonly SnapshotEnvironmentReport[]
  /** Absent when the build failed or the cold start was not run. */
  coldStart?: SnapshotColdStartReport
}

/**
 * Draws a snapshot run as text in sections: `build` (bundle, init, the before-snapshot
 * phase and its hooks, then the snapshot's size and the build process's time), one
 * `environment N` section per restored process (start plus restore, the after-restore
 * phase and its hooks, each invocation, then the first response's time after the process
 * started and its ratio to the cold start's), and `cold start` (start plus init, the first
 * invocation, the first response's time). A process that stopped early ends its section
 * with `stopped:` and the reason. Rows line up across sections and share one bar scale, as
 * in `renderTimeline`. Ends with a newline.
 */
export function renderSnapshotTimeline(run: SnapshotTimeline, style: TimelineStyle = {}): string {
  const lines: Line[] = ['build', ...buildLines(run.build)]
  for (const environment of run.environments) {
    lines.push(`environment ${environment.environment}`, ...environmentLines(environment))
  }
  if (run.coldStart !== undefined) lines.push('cold start', ...coldStartLines(run.coldStart))
  return draw(lines, style)
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

/** `4402193` → `"4.4 MB"`: bytes in B, kB or MB (powers of 1000), one decimal above B. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`
  return `${(bytes / 1_000_000).toFixed(1)} MB`
}

/** A measured line of a timeline. */
interface Row {
  label: string
  status: TimelineStep['status']
  durationMs: number
}

/** A line of a timeline: a measured row, or text (a heading or a note) drawn as it is. */
type Line = Row | string

/** Draws rows in aligned columns, with bars on one scale; text lines go in as they are. */
function draw(lines: readonly Line[], style: TimelineStyle): string {
  const rows = lines.filter((line): line is Row => typeof line !== 'string')
  const barWidth = style.barWidth ?? 30
  const labelWidth = Math.max(0, ...rows.map((row) => row.label.length))
  const durationWidth = Math.max(0, ...rows.map((row) => formatMs(row.durationMs).length))
  const longest = Math.max(0, ...rows.map((row) => row.durationMs))

  const text = lines.map((line) => {
    if (typeof line === 'string') return line
    const mark = paint(line.status.padEnd(9), line.status, style.color === true)
    const duration = `${formatMs(line.durationMs).padStart(durationWidth)} ms`
    const bar = drawBar(line.durationMs, longest, barWidth)
    return `${line.label.padEnd(labelWidth)}  ${mark}  ${duration}  ${bar}`.trimEnd()
  })
  return `${text.join('\n')}\n`
}

function buildLines(build: SnapshotBuildReport): Line[] {
  if (build.status === 'failed') {
    const rows: Line[] = [row('bundle + build', 'failed', build.durationMs)]
    if (build.beforeSnapshot !== undefined) rows.push(...phaseRows(build.beforeSnapshot))
    return rows
  }
  return [
    row('bundle', 'ok', build.bundleMs),
    row('init', 'ok', build.initMs),
    ...phaseRows(build.beforeSnapshot),
    `  snapshot ${formatBytes(build.sizeBytes)}, build process ${formatMs(build.buildMs)} ms`,
  ]
}

function environmentLines(environment: SnapshotEnvironmentReport): Line[] {
  const lines: Line[] = []
  const phase = environment.afterRestore
  if (environment.restoreMs !== undefined && phase !== undefined) {
    lines.push(row('start + restore', 'ok', environment.restoreMs - phase.durationMs))
  }
  if (phase !== undefined) lines.push(...phaseRows(phase))
  lines.push(...environment.responses.map(invocationRow))
  if (environment.failure !== undefined) {
    lines.push(`  stopped: ${environment.failure.message}`)
  } else if (environment.firstInvocationMs !== undefined) {
    const ratio =
      environment.coldRatio === undefined
        ? ''
        : `: ${environment.coldRatio.toFixed(2)} of the cold start`
    lines.push(`  first response ${formatMs(environment.firstInvocationMs)} ms after start${ratio}`)
  }
  return lines
}

function coldStartLines(cold: SnapshotColdStartReport): Line[] {
  const lines: Line[] = []
  if (cold.initMs !== undefined) lines.push(row('start + init', 'ok', cold.initMs))
  if (cold.response !== undefined) lines.push(invocationRow(cold.response))
  if (cold.failure !== undefined) {
    lines.push(`  stopped: ${cold.failure.message}`)
  } else if (cold.firstInvocationMs !== undefined) {
    lines.push(`  first response ${formatMs(cold.firstInvocationMs)} ms after start`)
  }
  return lines
}

/** The phase's row, then one row per hook under it. */
function phaseRows(report: PhaseReport): Row[] {
  return [
    row(LABELS[report.phase], report.status, report.durationMs),
    ...report.hooks.map((hook) => row(`  ${hook.name}`, hook.status, hook.durationMs)),
  ]
}

function invocationRow(invocation: SnapshotInvocation): Row {
  const status = invocation.status === 'ok' ? 'ok' : 'failed'
  return row(`invoke #${invocation.index + 1}`, status, invocation.durationMs)
}

/** A row inside a section, indented under its heading. */
function row(text: string, status: Row['status'], durationMs: number): Row {
  return { label: `  ${text}`, status, durationMs }
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
