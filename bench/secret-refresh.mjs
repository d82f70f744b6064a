// Secret refresh: the after-restore phase that fetches 10 Secrets Manager secrets again,
// eagerly and in parallel, against the same phase with one secret. The local endpoint (the
// tests' fake AWS) answers each request after 50 ms. Uses the built package (npm run build).

import { tsImport } from 'tsx/esm/api'
import { reset, runAfterRestore, runBeforeSnapshot } from '../dist/index.js'
import { registerSecretRefresh } from '../dist/secret-refresh.js'

const LATENCY_MS = 50
const ROUNDS = 7

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** Median duration of the after-restore phase refreshing `count` secrets, in ms. */
async function restoreMs(aws, count) {
  const secrets = {}
  for (let i = 0; i < count; i++) {
    aws.putSecret(`bench/secret-${i}`, `value-${i}`)
    secrets[`secret${i}`] = { source: 'secretsManager', secretId: `bench/secret-${i}` }
  }
  const common = {
    endpoint: aws.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
  }
  const runs = []
  for (let round = 0; round < ROUNDS + 1; round++) {
    reset()
    const store = registerSecretRefresh({
      secrets,
      awsClientOptions: { secretsManager: common },
    })
    await runBeforeSnapshot()
    const report = await runAfterRestore()
    store.unregister()
    // The first round warms the SDK's module and the endpoint; it is not counted.
    if (round > 0) runs.push(report.durationMs)
  }
  reset()
  return median(runs)
}

export async function bench() {
  process.env.SNAPSTART_LOG_LEVEL = 'silent'
  const { startFakeAws } = await tsImport('../test/support/secrets-endpoint.ts', import.meta.url)
  const aws = await startFakeAws({ latencyMs: LATENCY_MS })
  try {
    const singleMs = await restoreMs(aws, 1)
    const tenMs = await restoreMs(aws, 10)
    const ratio = tenMs / singleMs
    return {
      rows: [
        ['secret refresh, 1 secret at 50 ms', `${singleMs.toFixed(1)} ms`, ''],
        ['secret refresh, 10 secrets at 50 ms (eager)', `${tenMs.toFixed(1)} ms`, ''],
        ['secret refresh 10 vs 1 ratio', ratio.toFixed(3), 'goal <= 1.3'],
      ],
      figures: { secretRefreshEager10Ratio: Number(ratio.toFixed(4)) },
    }
  } finally {
    await aws.close()
  }
}
