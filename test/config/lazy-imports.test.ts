import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

describe('the root entry loads no SDK and no driver', () => {
  it('importing it and using every option without a driver resolves no package', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', fixture('record-imports.mjs'), fixture('uses-everything.mjs')],
      { encoding: 'utf8', env: { PATH: process.env.PATH, SNAPSTART_LOG_LEVEL: 'silent' } },
    )
    expect(run.status).toBe(0)
    // Node 24 runs module hooks off the main thread, so the two lines may come in any order.
    expect(run.stderr.split('\n').filter(Boolean).sort()).toEqual([
      'loaded',
      'resolve:middy-snapstart',
    ])
  })
})
