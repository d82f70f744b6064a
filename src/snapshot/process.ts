import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { forgetOnProcessExit, killOnProcessExit } from './child-processes.js'
import type { ChannelMessage } from './protocol.js'

/** A channel message and when it arrived, in ms from the spawn. */
export interface Received {
  message: ChannelMessage
  atMs: number
}

/** How a snapshot process ended. */
export interface ProcessRun {
  pid: number | undefined
  messages: Received[]
  exitCode: number | null
  signal: NodeJS.Signals | null
  /** True when it was killed for running over `timeoutMs`. */
  timedOut: boolean
  /** True when it was killed, or never started, because `signal` was aborted. */
  aborted: boolean
  /** Milliseconds from the spawn to the exit. */
  durationMs: number
  /** The last stdout/stderr lines, joined. */
  output: string
}

/** Options of `runProcess`. */
export interface RunOptions {
  env: NodeJS.ProcessEnv
  cwd: string
  timeoutMs: number
  onLog?: (line: string, stream: 'stdout' | 'stderr') => void
  /** Aborting it kills the process (SIGKILL); an aborted one is not started. */
  signal?: AbortSignal
}

const OUTPUT_LINES = 40

/**
 * Starts `execPath args` with the channel on fd 3, collects its channel messages and last
 * output lines, and kills it (SIGKILL) when it runs over `timeoutMs`, when `signal` is
 * aborted, or when this process exits first. Never rejects.
 */
export function runProcess(
  execPath: string,
  args: string[],
  options: RunOptions,
): Promise<ProcessRun> {
  const started = performance.now()
  const signal = options.signal
  if (signal?.aborted === true) {
    return Promise.resolve({
      pid: undefined,
      messages: [],
      exitCode: null,
      signal: null,
      timedOut: false,
      aborted: true,
      durationMs: 0,
      output: '',
    })
  }
  const child = spawn(execPath, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  })
  const messages: Received[] = []
  const output: string[] = []
  let timedOut = false
  let aborted = false

  const keep = (stream: 'stdout' | 'stderr') => (line: string) => {
    output.push(line)
    if (output.length > OUTPUT_LINES) output.shift()
    options.onLog?.(line, stream)
  }
  lines(child.stdout, keep('stdout'))
  lines(child.stderr, keep('stderr'))
  lines(child.stdio[3] as Readable, (line) => {
    const message = parse(line)
    if (message !== undefined) messages.push({ message, atMs: performance.now() - started })
  })

  const kill = () => {
    child.kill('SIGKILL')
  }
  const onAbort = () => {
    aborted = true
    kill()
  }
  const timer = setTimeout(() => {
    timedOut = true
    kill()
  }, options.timeoutMs)
  if (child.pid !== undefined) killOnProcessExit(kill)
  signal?.addEventListener('abort', onAbort, { once: true })
  child.once('exit', () => {
    // Its pid may soon belong to another process: nothing is left to kill.
    forgetOnProcessExit(kill)
    signal?.removeEventListener('abort', onAbort)
  })

  return new Promise((resolve) => {
    const finish = (exitCode: number | null, exitSignal: NodeJS.Signals | null) => {
      clearTimeout(timer)
      forgetOnProcessExit(kill)
      signal?.removeEventListener('abort', onAbort)
      resolve({
        pid: child.pid,
        messages,
        exitCode,
        signal: exitSignal,
        timedOut,
        aborted,
        durationMs: performance.now() - started,
        output: output.join('\n'),
      })
    }
    child.once('error', (error) => {
      output.push(`${error.name}: ${error.message}`)
      finish(null, null)
    })
    child.once('close', finish)
  })
}

/** The first message of `type`, with its arrival time. */
export function find<T extends ChannelMessage['type']>(
  run: ProcessRun,
  type: T,
): { message: Extract<ChannelMessage, { type: T }>; atMs: number } | undefined {
  const found = run.messages.find((received) => received.message.type === type)
  return found as { message: Extract<ChannelMessage, { type: T }>; atMs: number } | undefined
}

function lines(stream: Readable | null, onLine: (line: string) => void): void {
  if (stream === null) return
  createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', onLine)
}

function parse(line: string): ChannelMessage | undefined {
  try {
    const value = JSON.parse(line) as ChannelMessage
    return typeof value === 'object' && value !== null && 'type' in value ? value : undefined
  } catch {
    return undefined
  }
}
