import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const run = promisify(execFile)
const script = fileURLToPath(new URL('../fixtures/core/two-copies.mjs', import.meta.url))

it('C08: the built ESM and CJS copies share one registry; another version warns once', async () => {
  const { stdout } = await run(process.execPath, [script])

  const lines = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
  const result = lines.at(-1)
  expect(result).toEqual({
    distinctCopies: true,
    runs: 1,
    hooks: ['countRuns'],
    stateSeenByOtherVersion: 'ready',
  })
  const warnings = lines.filter((line) => line.type === 'snapstart.versions')
  expect(warnings).toHaveLength(1)
  expect(warnings[0]!.versions).toEqual([expect.any(String), '99.0.0'])
})
