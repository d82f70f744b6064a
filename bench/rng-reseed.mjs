// RNG reseed figures: the after-restore cost of rngReseed() (in a fresh process, as after a
// restore, and warm), and the per-call cost of the Math.random replacement against V8's own.
// Uses the built package (npm run build). Every measurement runs in a child process (this
// file with `child <kind>`), so the replaced Math.random never leaks into other benchmarks.
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const self = fileURLToPath(import.meta.url)
const dist = new URL('../dist/', import.meta.url)

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

async function child(kind, flags = []) {
  const env = { ...process.env, SNAPSTART_LOG_LEVEL: 'silent' }
  const { stdout } = await run(process.execPath, [...flags, self, 'child', kind], { env })
  return JSON.parse(stdout)
}

/** Nanoseconds per `Math.random()` call: a fixed loop, median of 7 batches of 5 million. */
function mathRandomNs() {
  let sink = 0
  const batches = []
  for (let round = 0; round < 8; round++) {
    const start = performance.now()
    sink += sumOfDraws(5_000_000)
    batches.push(((performance.now() - start) * 1e6) / 5_000_000)
  }
  return { ns: median(batches.slice(1)), sink }
}

function sumOfDraws(count) {
  let sum = 0
  for (let i = 0; i < count; i++) sum += Math.random()
  return sum
}

async function installReseed() {
  const { registerRngReseed } = await import(new URL('rng-reseed.js', dist).href)
  registerRngReseed()
}

/** One restore in a fresh process: init draws an id, then the after-restore phase runs. */
async function freshRestore() {
  const { runAfterRestore } = await import(new URL('index.js', dist).href)
  await installReseed()
  randomUUID()
  const report = await runAfterRestore()
  return { hookMs: report.hooks[0].durationMs, phaseMs: report.durationMs }
}

/** The same phase run again and again in one process: the cost once the code is compiled. */
async function warmRestore() {
  const { reset, runAfterRestore } = await import(new URL('index.js', dist).href)
  const hook = []
  for (let round = 0; round < 200; round++) {
    reset()
    await installReseed()
    const report = await runAfterRestore()
    hook.push(report.hooks[0].durationMs)
  }
  const spend = []
  for (let round = 0; round < 200; round++) {
    const start = performance.now()
    for (let i = 0; i < 128; i++) randomUUID()
    spend.push(performance.now() - start)
  }
  return { hookMs: median(hook), spendMs: median(spend) }
}

const children = {
  native: async () => mathRandomNs(),
  sfc32: async () => {
    await installReseed()
    return mathRandomNs()
  },
  fresh: freshRestore,
  warm: warmRestore,
}

if (process.argv[2] === 'child') {
  const result = await children[process.argv[3]]()
  process.stdout.write(JSON.stringify(result))
}

/** Median ns per call of V8's Math.random and of the replacement, alternating processes. */
async function compareMathRandom(flags) {
  const native = []
  const sfc32 = []
  for (let round = 0; round < 5; round++) {
    native.push((await child('native', flags)).ns)
    sfc32.push((await child('sfc32', flags)).ns)
  }
  return { nativeNs: median(native), sfc32Ns: median(sfc32) }
}

export async function bench() {
  const inlined = await compareMathRandom([])
  const called = await compareMathRandom(['--max-inlined-bytecode-size=0'])
  const fresh = []
  for (let round = 0; round < 15; round++) fresh.push(await child('fresh'))
  const warm = await child('warm')

  const ratio = inlined.sfc32Ns / inlined.nativeNs
  const calledRatio = called.sfc32Ns / called.nativeNs
  const freshHookMs = median(fresh.map((result) => result.hookMs))
  const freshPhaseMs = median(fresh.map((result) => result.phaseMs))
  return {
    rows: [
      ['Math.random() in a hot loop, V8 native', `${inlined.nativeNs.toFixed(2)} ns`, ''],
      ['Math.random() in a hot loop, rngReseed sfc32', `${inlined.sfc32Ns.toFixed(2)} ns`, ''],
      ['Math.random() cost ratio, sfc32 / native, hot loop', ratio.toFixed(3), ''],
      ['Math.random() cost ratio, not inlined', calledRatio.toFixed(3), ''],
      [
        'rngReseed after-restore hook, fresh process',
        `${freshHookMs.toFixed(3)} ms`,
        'goal <= 1 ms',
      ],
      ['after-restore phase with only rngReseed, fresh', `${freshPhaseMs.toFixed(3)} ms`, ''],
      ['rngReseed after-restore hook, warm', `${warm.hookMs.toFixed(3)} ms`, 'goal <= 1 ms'],
      ['128 crypto.randomUUID() (cache spend), warm', `${(warm.spendMs * 1000).toFixed(1)} µs`, ''],
    ],
    figures: {
      rngReseedAfterRestoreMs: Number(freshHookMs.toFixed(3)),
      mathRandomCallRatio: Number(ratio.toFixed(3)),
    },
  }
}
