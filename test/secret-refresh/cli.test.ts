import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { createClock } from '../support/secrets-clock.js'
import { type FakeCredentials, startFakeCredentials } from '../support/secrets-credentials.js'
import { type FakeAws, startFakeAws } from '../support/secrets-endpoint.js'
import { isolateAwsEnv } from '../support/secrets-env.js'

const run = promisify(execFile)
const cli = fileURLToPath(new URL('../../dist/emulator-cli.js', import.meta.url))
const handler = fileURLToPath(new URL('./fixtures/middy-handler.mjs', import.meta.url))

let aws: FakeAws
let credentials: FakeCredentials
let control: Server
let restoreEnv: () => void

beforeEach(async () => {
  restoreEnv = isolateAwsEnv()
  const clock = createClock()
  credentials = await startFakeCredentials({ clock, lifetimeMs: 60 * 60_000 })
  aws = await startFakeAws({ clock, acceptKey: (key) => credentials.isValid(key) })
  // What --while-frozen calls: rotates the secret, as a rotation Lambda would.
  control = createServer((_request, response) => {
    aws.putSecret('prod/api', 'sk-v2-cli-77')
    response.end('rotated')
  })
  control.listen(0, '127.0.0.1')
  await once(control, 'listening')
})
afterEach(async () => {
  control.close()
  await aws.close()
  await credentials.close()
  restoreEnv()
})

it('snapstart run: a secret rotated --while-frozen is what invocations see', async () => {
  aws.putSecret('prod/api', 'sk-v1-cli-11')
  const rotate = `http://127.0.0.1:${(control.address() as AddressInfo).port}/rotate`

  const { stdout, stderr } = await run(process.execPath, [
    cli,
    'run',
    handler,
    '--while-frozen',
    `"${process.execPath}" -e "fetch('${rotate}').then((r) => r.text())"`,
    '--repeat',
    '2',
    '--env',
    `FAKE_AWS_ENDPOINT=${aws.url}`,
    '--env',
    `AWS_CONTAINER_CREDENTIALS_FULL_URI=${credentials.url}`,
    '--env',
    `AWS_CONTAINER_AUTHORIZATION_TOKEN=${credentials.token}`,
    '--env',
    'AWS_EC2_METADATA_DISABLED=true',
  ])

  const responses = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown)
  expect(responses).toEqual([
    { apiKey: 'sk-v2-cli-77', first: true },
    { apiKey: 'sk-v2-cli-77', first: false },
  ])
  expect(aws.requests.map((request) => request.status)).toEqual([200, 200])
  expect(stderr).toMatch(/secret-refresh\(apiKey\)\s+ok/)
  expect(stderr).not.toContain('sk-v1-cli-11')
  expect(stderr).not.toContain('sk-v2-cli-77')
})
