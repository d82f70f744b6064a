import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
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

it('C08: the script removes the folder it copied the other version into', async () => {
  const copies = () => readdirSync(tmpdir()).filter((name) => name.startsWith('snapstart-copy-'))
  const before = copies()

  await run(process.execPath, [script])

  expect(copies()).toEqual(before)
})
