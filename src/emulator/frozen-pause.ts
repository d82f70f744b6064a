// What holds the normal run's frozen pause: the `--frozen` wait and the `--while-frozen`
// command.

import { type ChildProcess, spawn } from 'node:child_process'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { cleanups } from './cleanups.js'
import type { CliDeps, CommandResult } from './cli-types.js'

/**
 * Resolves once `ms` milliseconds have passed since `start` on the monotonic clock, or as
 * soon as `signal` is aborted.
 */
export async function waitAtLeast(ms: number, start: number, signal?: AbortSignal): Promise<void> {
  // Timers round to whole milliseconds and may fire a fraction early: check, then top up.
  for (let left = ms; left > 0 && signal?.aborted !== true; ) {
    await sleep(Math.ceil(left), undefined, { signal }).catch(() => undefined)
    left = start + ms - performance.now()
  }
}

/** How long a stopped `--while-frozen` command has to exit after SIGTERM before SIGKILL. */
const COMMAND_GRACE_MS = 2_000

/**
 * Runs `command` through the shell in its own process group, so that stopping it reaches
 * whatever the shell started. Its output goes to stderr, never to the responses. Resolves
 * when the shell exits: a process it left running in the background may keep writing to
 * stderr, but neither holds the pause nor keeps the CLI from exiting.
 */
export function runCommand(
  command: string,
  pid: number | undefined,
  deps: CliDeps,
): Promise<CommandResult> {
  const start = performance.now()
  const env = { ...deps.env }
  if (typeof pid === 'number') env.SNAPSTART_RUNTIME_PID = String(pid)
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(command, {
      shell: true,
      cwd: deps.io.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    child.stdout?.on('data', (chunk: Buffer) => deps.stderr.write(chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => deps.stderr.write(chunk.toString()))
    const done = (exitCode: number | null, signal: string | null) =>
      resolve({ command, exitCode, signal, durationMs: performance.now() - start })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    const signalGroup = (name: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, name)
      } catch {
        // The whole group has already exited.
      }
    }
    // SIGTERM first; a command that ignores it is killed after a grace period.
    const kill = async () => {
      signalGroup('SIGTERM')
      const grace = setTimeout(() => signalGroup('SIGKILL'), COMMAND_GRACE_MS)
      await exited
      clearTimeout(grace)
    }
    cleanups.add(kill)
    deps.signal?.addEventListener('abort', kill, { once: true })
    child.once('error', () => done(127, null))
    child.once('exit', (code, signal) => {
      cleanups.delete(kill)
      deps.signal?.removeEventListener('abort', kill)
      // The pipes may be held open by background processes: they must not keep the CLI
      // alive. What the shell wrote before exiting is read in this turn of the event loop.
      for (const pipe of [child.stdout, child.stderr]) (pipe as Socket | null)?.unref()
      setImmediate(() => done(code, signal))
    })
  })
}
