// Emulator figures, through the built API (npm run build): invocations per second with a
// no-op handler after the restore, and the time from the start of the restore to the first
// response. With SNAPSTART_AWS_RIC set to an installed aws-lambda-ric package folder (see
// scripts/check-aws-ric.sh), it also measures AWS's runtime client in on-demand mode, run
// by SNAPSTART_AWS_RIC_NODE (default: this Node).
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { startEmulator } from '../dist/emulator.js'

const WARMUP = 50
const INVOCATIONS = 1000

/** Runs `invocations` no-op invocations one after another; resolves to invocations/s. */
async function invocationsPerSecond(emulator, invocations) {
  for (let i = 0; i < WARMUP; i++) await emulator.invoke({})
  const start = performance.now()
  for (let i = 0; i < invocations; i++) {
    const result = await emulator.invoke({})
    if (result.status !== 'ok')
      throw new Error(`bench invocation failed: ${JSON.stringify(result)}`)
  }
  return Math.round((invocations * 1000) / (performance.now() - start))
}

async function ours(handler) {
  const emulator = await startEmulator({ handler, onLog: () => {} })
  try {
    const start = performance.now()
    await emulator.restore()
    await emulator.invoke({})
    const restoreToFirstResponseMs = Math.round((performance.now() - start) * 10) / 10
    return {
      restoreToFirstResponseMs,
      emulatorInvocationsPerSecond: await invocationsPerSecond(emulator, INVOCATIONS),
    }
  } finally {
    await emulator.close()
  }
}

async function awsRic(handler, packageDir) {
  const emulator = await startEmulator({
    handler,
    onDemand: true,
    onLog: () => {},
    runtime: {
      command: process.env.SNAPSTART_AWS_RIC_NODE || process.execPath,
      args: [join(packageDir, 'index.mjs')],
    },
  })
  try {
    return await invocationsPerSecond(emulator, INVOCATIONS)
  } finally {
    await emulator.close()
  }
}

/**
 * Resolves to `{ rows, figures }` (see run.mjs). Figures: `emulatorInvocationsPerSecond`,
 * `restoreToFirstResponseMs`, and `awsRicInvocationsPerSecond` when SNAPSTART_AWS_RIC is set.
 */
export async function bench() {
  const dir = await mkdtemp(join(tmpdir(), 'snapstart-bench-'))
  const handler = join(dir, 'noop.mjs')
  await writeFile(handler, 'export const handler = async () => null\n')
  try {
    const figures = await ours(handler)
    const rows = [
      ['emulator: invocations per second, no-op handler', figures.emulatorInvocationsPerSecond, ''],
      ['emulator: restore to first response (ms)', figures.restoreToFirstResponseMs, ''],
    ]
    if (process.env.SNAPSTART_AWS_RIC) {
      figures.awsRicInvocationsPerSecond = await awsRic(handler, process.env.SNAPSTART_AWS_RIC)
      rows.push([
        'aws-lambda-ric: invocations per second, no-op handler',
        figures.awsRicInvocationsPerSecond,
        `ours should be at least as fast (${figures.emulatorInvocationsPerSecond})`,
      ])
    }
    return { rows, figures }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
