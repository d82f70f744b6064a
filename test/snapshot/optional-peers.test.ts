import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { bundleHandler } from '../../src/snapshot/bundle.js'
import { SnapshotBundleError } from '../../src/snapshot/index.js'

// Outside the repository, so that no node_modules above it holds the AWS SDK.
const dir = mkdtempSync(join(tmpdir(), 'snapstart-optional-peers-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('bundling for a snapshot without the optional AWS SDK peers installed', () => {
  it('leaves their imports as requires that fail only when reached', async () => {
    const handler = join(dir, 'secrets-later.mjs')
    writeFileSync(
      handler,
      [
        'export async function handler(event) {',
        "  if (event.ssm) await import('@aws-sdk/client-ssm')",
        "  if (event.secrets) await import('@aws-sdk/client-secrets-manager')",
        "  return 'ok'",
        '}',
        '',
      ].join('\n'),
    )
    const out = join(dir, 'bundle.cjs')

    await bundleHandler(handler, 'handler', out)

    const bundle = readFileSync(out, 'utf8')
    expect(bundle).toContain('require("@aws-sdk/client-ssm")')
    expect(bundle).toContain('require("@aws-sdk/client-secrets-manager")')
  })

  it('still refuses any other package that is not installed', async () => {
    const handler = join(dir, 'needs-missing.mjs')
    writeFileSync(handler, "import 'not-installed-anywhere'\nexport const handler = () => 1\n")

    await expect(bundleHandler(handler, 'handler', join(dir, 'other.cjs'))).rejects.toThrow(
      SnapshotBundleError,
    )
  })
})
