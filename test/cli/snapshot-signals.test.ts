import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from './run-cli.js'

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'snap-slow')

/** The CLI's TMPDIR: the snapshot's files go there, and every process names them. */
let scratch: string

beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'snapstart-snapshot-signals-'))
})

afterEach(() => {
  rmSync(scratch, { recursive: true, force: true })
})

function startCli(args: string[]) {
  return runCli(args, { cwd: fixtures, env: { PATH: process.env.PATH, TMPDIR: scratch } })
}

/** Live processes whose command line names `text` (Linux `/proc`). */
function processesNaming(text: string): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const zombie = stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
      if (!zombie && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) {
        found.push(Number(entry))
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return found
}

describe('snapstart run --snapshot v8 interrupted by a signal sent to its pid only', () => {
  it.each([
    ['SIGTERM', 'the build', 'before-waits.mjs', 143, 'build'],
    ['SIGINT', 'the build', 'before-waits.mjs', 130, 'build'],
    ['SIGTERM', 'the restore', 'after-waits.mjs', 143, 'restore'],
  ] as const)('%s during %s kills its processes, then exits', async (...test) => {
    const [signal, , file, status, stage] = test
    const cli = startCli(['run', file, '--snapshot', 'v8', '--environments', '2'])
    const pid = await cli.reportedPid
    expect(existsSync(`/proc/${pid}`)).toBe(true)
    expect(processesNaming(scratch)).toContain(pid)

    cli.child.kill(signal)

    expect(await cli.exited).toEqual({ code: status, signal: null })
    expect(existsSync(`/proc/${pid}`)).toBe(false)
    expect(processesNaming(scratch)).toEqual([])
    expect(readdirSync(scratch)).toEqual([])
    expect(cli.stderr().trimEnd().split('\n').at(-1)).toBe(
      `snapstart: SnapshotAbortedError: The snapshot ${stage} was aborted (interrupted by ` +
        `${signal}): none of its processes is left running`,
    )
  })
})
