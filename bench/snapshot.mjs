// Snapshot figures: a cold start plus the first invocation of examples/heavy-init (about
// 300 ms of module-level work), against restoring its Node startup snapshot plus the first
// invocation. Uses the built package (npm run build).

import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { buildSnapshot, restoreSnapshot } from '../dist/snapshot.js'

const handler = fileURLToPath(new URL('../examples/heavy-init/handler.mjs', import.meta.url))
const ROUNDS = 5

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** One restored environment and one cold start per round, one after the other. */
async function measure(built) {
  const restore = []
  const restoreDone = []
  const cold = []
  for (let round = 0; round < ROUNDS; round++) {
    const result = await restoreSnapshot(built, { environments: 1, events: [{ query: 'lamp' }] })
    const [environment] = result.environments
    const failure = environment.failure ?? result.coldStart.failure
    if (failure !== undefined) throw new Error(`snapshot bench failed: ${failure.message}`)
    restore.push(environment.firstInvocationMs)
    restoreDone.push(environment.restoreMs)
    cold.push(result.coldStart.firstInvocationMs)
  }
  return { restore: median(restore), restoreDone: median(restoreDone), cold: median(cold) }
}

export async function bench() {
  const built = await buildSnapshot({ handler, env: { SNAPSTART_LOG_LEVEL: 'silent' } })
  try {
    const { restore, restoreDone, cold } = await measure(built)
    const ratio = restore / cold
    const mb = built.sizeBytes / 1_048_576
    return {
      rows: [
        ['snapshot: blob size (heavy-init)', `${mb.toFixed(1)} MB`, ''],
        [
          'snapshot: build time (bundle + build)',
          `${(built.bundleMs + built.buildMs).toFixed(0)} ms`,
          '',
        ],
        ['snapshot: cold start + first invocation', `${cold.toFixed(0)} ms`, ''],
        ['snapshot: restore + after-restore hooks', `${restoreDone.toFixed(0)} ms`, ''],
        ['snapshot: restore + first invocation', `${restore.toFixed(0)} ms`, ''],
        ['snapshot: restore / cold ratio', ratio.toFixed(3), 'goal <= 0.2'],
      ],
      figures: {
        snapshotRestoreToColdRatio: Number(ratio.toFixed(4)),
        snapshotRestoreFirstInvocationMs: Number(restore.toFixed(1)),
        snapshotRestoreMs: Number(restoreDone.toFixed(1)),
        snapshotColdFirstInvocationMs: Number(cold.toFixed(1)),
        snapshotSizeBytes: built.sizeBytes,
        snapshotBuildMs: Number((built.bundleMs + built.buildMs).toFixed(1)),
      },
    }
  } finally {
    rmSync(built.outDir, { recursive: true, force: true })
  }
}
