// Run by check-aws-ric.sh: serves invocations through the emulator with AWS's runtime client
// as the runtime process (on-demand mode, since it has no restore support), checks the
// answers, then prints the emulator benchmark including aws-lambda-ric.
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bench } from '../bench/emulator.mjs'
import { startEmulator } from '../dist/emulator.js'

const packageDir = process.env.SNAPSTART_AWS_RIC
const node = process.env.SNAPSTART_AWS_RIC_NODE || process.execPath
assert.ok(packageDir, 'set SNAPSTART_AWS_RIC to the aws-lambda-ric package folder')

const dir = await mkdtemp(join(tmpdir(), 'snapstart-aws-ric-handler-'))
const handler = join(dir, 'echo.mjs')
await writeFile(
  handler,
  [
    'export const handler = async (event, context) => {',
    "  if (event.fail) throw new TypeError('asked to fail')",
    '  const remaining = context.getRemainingTimeInMillis() > 0',
    '  return { event, requestId: context.awsRequestId, remaining }',
    '}',
    '',
  ].join('\n'),
)

const emulator = await startEmulator({
  handler,
  onDemand: true,
  runtime: { command: node, args: [join(packageDir, 'index.mjs')] },
})
try {
  for (const n of [1, 2, 3]) {
    const result = await emulator.invoke({ n })
    assert.equal(result.status, 'ok', JSON.stringify(result))
    assert.deepEqual(result.response, {
      event: { n },
      requestId: result.requestId,
      remaining: true,
    })
  }
  const failed = await emulator.invoke({ fail: true })
  assert.equal(failed.status, 'error')
  assert.equal(failed.error?.errorType, 'TypeError')
  assert.equal(failed.error?.errorMessage, 'asked to fail')
  const after = await emulator.invoke({ n: 4 })
  assert.equal(after.status, 'ok', 'the runtime serves again after a handler error')
  console.log('check-aws-ric: aws-lambda-ric served 5 invocations through the emulator: ok')
} finally {
  await emulator.close()
  await rm(dir, { recursive: true, force: true })
}

const { rows, figures } = await bench()
for (const [label, value, goal] of rows) console.log(`${label}: ${value} ${goal}`.trimEnd())
console.log(JSON.stringify(figures))
