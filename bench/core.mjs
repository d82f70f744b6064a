// Core figures: the per-invocation cost of snapStart() against bare middy, and the time to
// run 1 000 no-op after-restore hooks. Uses the built package (npm run build).

import { performance } from 'node:perf_hooks'
import middy from '@middy/core'
import { registerAfterRestore, reset, runAfterRestore, snapStart } from '../dist/index.js'

const context = { functionName: 'bench', awsRequestId: 'bench' }

async function perInvocationNs(handler, rounds) {
  const start = performance.now()
  for (let i = 0; i < rounds; i++) await handler({}, context)
  return ((performance.now() - start) * 1e6) / rounds
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** Alternates batches of both handlers and takes the median ratio, to cancel drift. */
async function overheadRatio() {
  const bare = middy(async () => 'ok')
  const withSnapStart = middy(async () => 'ok').use(snapStart())
  await perInvocationNs(bare, 20_000)
  await perInvocationNs(withSnapStart, 20_000)
  const ratios = []
  const bareNs = []
  const snapNs = []
  // Many short alternating batches, in both orders, so load from other processes on the
  // machine falls on both sides alike; the median ratio then cancels it.
  for (let batch = 0; batch < 40; batch++) {
    const bareFirst = batch % 2 === 0
    const x = await perInvocationNs(bareFirst ? bare : withSnapStart, 5_000)
    const y = await perInvocationNs(bareFirst ? withSnapStart : bare, 5_000)
    const [a, b] = bareFirst ? [x, y] : [y, x]
    bareNs.push(a)
    snapNs.push(b)
    ratios.push(b / a)
  }
  return { ratio: median(ratios), bareNs: median(bareNs), snapNs: median(snapNs) }
}

async function thousandHooksMs() {
  const runs = []
  // The first rounds compile the lifecycle code; keep only the rounds after them.
  for (let round = 0; round < 18; round++) {
    reset()
    for (let i = 0; i < 1000; i++) registerAfterRestore(() => {}, i)
    const report = await runAfterRestore()
    if (round >= 3) runs.push(report.durationMs)
  }
  reset()
  return median(runs)
}

export async function bench() {
  process.env.SNAPSTART_LOG_LEVEL = 'silent'
  const overhead = await overheadRatio()
  const hooksMs = await thousandHooksMs()
  return {
    rows: [
      ['bare middy, no-op invocation', `${overhead.bareNs.toFixed(0)} ns`, ''],
      ['middy + snapStart(), no-op invocation', `${overhead.snapNs.toFixed(0)} ns`, ''],
      ['snapStart() overhead ratio', overhead.ratio.toFixed(3), 'goal <= 1.05'],
      ['1 000 no-op after-restore hooks', `${hooksMs.toFixed(2)} ms`, 'goal <= 5 ms'],
    ],
    figures: {
      snapStartOverheadRatio: Number(overhead.ratio.toFixed(4)),
      afterRestore1000HooksMs: Number(hooksMs.toFixed(3)),
    },
  }
}
