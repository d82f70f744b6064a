// Emulator figures, through the built API (npm run build): invocations per second with a
// no-op handler after the restore, and the time from the start of the restore to the first
// response. With SNAPSTART_AWS_RIC set to an installed aws-lambda-ric package folder (see
// scripts/check-aws-ric.sh), it also measures AWS's runtime client the same way and gives
// the ratio of the two.
//
// Fairness: both runtimes run under the same Node (SNAPSTART_AWS_RIC_NODE when set, since
// aws-lambda-ric needs Node 22; otherwise this Node), both in snap-start mode with the same
// handler, both measured after the restore and a warm-up, in alternating rounds (ours first
// in even rounds, theirs first in odd ones, so neither always meets a cold or a warm
// emulator); the figures are medians over the rounds.
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { startEmulator } from '../dist/emulator.js'

const ROUNDS = Number(process.env.SNAPSTART_BENCH_ROUNDS) || 5
// Enough for the JIT of the runtime and of the emulator to settle before measuring.
const WARMUP = 300
const INVOCATIONS = 2000
const RUNTIME_BIN = fileURLToPath(new URL('../dist/runtime-bin.js', import.meta.url))

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

/** One round for one runtime: restore, first response, then throughput. */
async function round(handler, options) {
  const emulator = await startEmulator({ handler, onLog: () => {}, ...options })
  try {
    const start = performance.now()
    await emulator.restore()
    await emulator.invoke({})
    const restoreToFirstResponseMs = performance.now() - start
    const perSecond = await invocationsPerSecond(emulator, INVOCATIONS)
    return { restoreToFirstResponseMs, perSecond }
  } finally {
    await emulator.close()
  }
}

function ours(node) {
  return { runtime: { command: node, args: [RUNTIME_BIN] } }
}

function awsRic(node, packageDir) {
  return {
    runtime: { command: node, args: [join(packageDir, 'index.mjs')] },
    // aws-lambda-ric refuses to start without them, and SnapStart leaves them out.
    env: {
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/snapstart-function',
      AWS_LAMBDA_LOG_STREAM_NAME: 'bench',
    },
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/**
 * Resolves to `{ rows, figures }` (see run.mjs). Figures, medians over the rounds:
 * `emulatorInvocationsPerSecond`, `restoreToFirstResponseMs`, and, when SNAPSTART_AWS_RIC
 * is set, `awsRicInvocationsPerSecond` and `runtimeVsAwsRicThroughputRatio` (ours / theirs,
 * goal at least 1).
 */
export async function bench() {
  const dir = await mkdtemp(join(tmpdir(), 'snapstart-bench-'))
  const handler = join(dir, 'noop.mjs')
  await writeFile(handler, 'export const handler = async () => null\n')
  const node = process.env.SNAPSTART_AWS_RIC_NODE || process.execPath
  const ricDir = process.env.SNAPSTART_AWS_RIC
  try {
    const mine = []
    const theirs = []
    for (let i = 0; i < ROUNDS; i++) {
      if (ricDir && i % 2 === 1) theirs.push(await round(handler, awsRic(node, ricDir)))
      mine.push(await round(handler, ours(node)))
      if (ricDir && i % 2 === 0) theirs.push(await round(handler, awsRic(node, ricDir)))
    }

    const perSecond = median(mine.map((r) => r.perSecond))
    const restoreMs = median(mine.map((r) => r.restoreToFirstResponseMs))
    const figures = {
      emulatorInvocationsPerSecond: Math.round(perSecond),
      restoreToFirstResponseMs: Math.round(restoreMs * 10) / 10,
    }
    const rows = [
      ['emulator: invocations per second, no-op handler', figures.emulatorInvocationsPerSecond, ''],
      ['emulator: restore to first response (ms)', figures.restoreToFirstResponseMs, ''],
    ]
    if (ricDir) {
      const ric = median(theirs.map((r) => r.perSecond))
      figures.awsRicInvocationsPerSecond = Math.round(ric)
      figures.runtimeVsAwsRicThroughputRatio = Math.round((perSecond / ric) * 100) / 100
      rows.push(
        [
          'aws-lambda-ric: invocations per second, no-op handler',
          figures.awsRicInvocationsPerSecond,
          `both on ${await nodeVersion(node)}, median of ${ROUNDS} alternating rounds`,
        ],
        [
          'emulator: ours / aws-lambda-ric invocations per second',
          figures.runtimeVsAwsRicThroughputRatio,
          'at least 1',
        ],
      )
    }
    return { rows, figures }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function nodeVersion(node) {
  if (node === process.execPath) return `Node ${process.version}`
  return new Promise((resolve) => {
    execFile(node, ['--version'], (error, stdout) => {
      resolve(error ? node : `Node ${stdout.trim()}`)
    })
  })
}
