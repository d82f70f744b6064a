import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const bin = join(root, 'dist', 'emulator-cli.js')
const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'rt-interrupt')

/** The bin, its output so far, and the pid the function printed once it printed it. */
function runCli(args: string[]) {
  const child: ChildProcess = spawn(process.execPath, [bin, ...args], {
    cwd: fixtures,
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  let found!: (pid: number) => void
  const runtimePid = new Promise<number>((resolve) => {
    found = resolve
  })
  child.stderr!.on('data', (chunk) => {
    stderr += chunk
    const match = /running in (\d+)\n/.exec(stderr)
    if (match !== null) found(Number(match[1]))
  })
  child.stdout!.resume()
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  return { child, runtimePid, exited, stderr: () => stderr }
}

describe('snapstart run interrupted by a signal sent to its pid only', () => {
  it.each([
    ['SIGTERM', 'init', 'init-hangs.mjs', 143],
    ['SIGTERM', 'a before-snapshot hook', 'before-hangs.mjs', 143],
    ['SIGINT', 'init', 'init-hangs.mjs', 130],
    ['SIGINT', 'a before-snapshot hook', 'before-hangs.mjs', 130],
  ] as const)('%s during %s stops the runtime, then exits', async (signal, _, file, status) => {
    const cli = runCli(['run', file])
    const pid = await cli.runtimePid
    expect(existsSync(`/proc/${pid}`)).toBe(true)

    cli.child.kill(signal)

    expect(await cli.exited).toEqual({ code: status, signal: null })
    expect(existsSync(`/proc/${pid}`)).toBe(false)
    expect(cli.stderr().trimEnd().split('\n').at(-1)).toBe(
      `snapstart: Emulator.Aborted: The emulator was aborted (interrupted by ${signal}): ` +
        'the runtime process was killed and the Runtime API server closed',
    )
  })
})
