import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runCli } from './run-cli.js'

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'rt-interrupt')

function startCli(args: string[]) {
  return runCli(args, { cwd: fixtures, env: { PATH: process.env.PATH } })
}

describe('snapstart run interrupted by a signal sent to its pid only', () => {
  it.each([
    ['SIGTERM', 'init', 'init-hangs.mjs', 143],
    ['SIGTERM', 'a before-snapshot hook', 'before-hangs.mjs', 143],
    ['SIGINT', 'init', 'init-hangs.mjs', 130],
    ['SIGINT', 'a before-snapshot hook', 'before-hangs.mjs', 130],
    ['SIGHUP', 'a before-snapshot hook', 'before-hangs.mjs', 129],
  ] as const)('%s during %s stops the runtime, then exits', async (signal, _, file, status) => {
    const cli = startCli(['run', file])
    const pid = await cli.reportedPid
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

describe('snapstart run interrupted during a --while-frozen command', () => {
  it('kills a command that ignores SIGTERM after a grace period, then exits', async () => {
    const command = "trap '' TERM INT; echo running in $$; sleep 300"
    const cli = startCli(['run', 'echo.mjs', '--while-frozen', command])
    const shell = await cli.reportedPid

    cli.child.kill('SIGINT')

    expect(await cli.exited).toEqual({ code: 130, signal: null })
    expect(existsSync(`/proc/${shell}`)).toBe(false)
  })
})
