import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, posix, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { start } from '../emulator/helpers.js'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const EXAMPLE = join(REPO, 'examples', 'container')

interface Dockerfile {
  from: string
  workdir: string
  copies: { sources: string[]; dest: string }[]
  env: Record<string, string>
  entrypoint: string[]
  cmd: string[]
}

/**
 * Reads the instructions this test runs: FROM, WORKDIR, COPY, ENV (`KEY=VALUE` pairs,
 * optionally double-quoted), ENTRYPOINT and CMD (exec form). RUN is read and not run (see
 * the mappings below). Line continuations and comments are handled as Docker does.
 */
function parseDockerfile(text: string): Dockerfile {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
  const file: Dockerfile = { from: '', workdir: '/', copies: [], env: {}, entrypoint: [], cmd: [] }
  for (const line of lines) {
    const [, instruction, rest] = /^(\w+)\s+(.*)$/.exec(line) ?? []
    switch (instruction?.toUpperCase()) {
      case 'FROM':
        file.from = rest!
        break
      case 'WORKDIR':
        file.workdir = posix.resolve(file.workdir, rest!)
        break
      case 'COPY': {
        const parts = rest!.split(/\s+/)
        file.copies.push({ sources: parts.slice(0, -1), dest: parts.at(-1)! })
        break
      }
      case 'ENV':
        for (const [, key, quoted, bare] of rest!.matchAll(/(\w+)=(?:"([^"]*)"|(\S*))/g)) {
          file.env[key!] = quoted ?? bare!
        }
        break
      case 'ENTRYPOINT':
        file.entrypoint = JSON.parse(rest!)
        break
      case 'CMD':
        file.cmd = JSON.parse(rest!)
        break
      case 'RUN':
        break
      default:
        throw new Error(`The test does not know the instruction in "${line}"`)
    }
  }
  return file
}

// The only mappings between the image and this machine:
// - /var/task (Lambda's task root) is a scratch directory, filled by the Dockerfile's COPY
//   lines from the example directory;
// - node_modules/middy-snapstart there is a link to this repository, which is what the RUN
//   line's npm install provides (built with tsup first);
// - /var/lang/bin/node (the base image's node) is the node running this test.
const scratch = mkdtempSync(join(tmpdir(), 'container-example-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))
const TASK_ROOT = join(scratch, 'var-task')
const MAPPINGS: [string, string][] = [
  ['/var/task', TASK_ROOT],
  ['/var/lang/bin/node', process.execPath],
]

function mapPath(value: string): string {
  for (const [image, local] of MAPPINGS) {
    if (value === image || value.startsWith(`${image}/`)) return local + value.slice(image.length)
  }
  return value
}

const dockerfile = parseDockerfile(readFileSync(join(EXAMPLE, 'Dockerfile'), 'utf8'))

function buildTaskRoot(): string {
  const workdir = mapPath(dockerfile.workdir)
  mkdirSync(workdir, { recursive: true })
  for (const copy of dockerfile.copies) {
    for (const source of copy.sources) {
      const dest = resolve(mapPath(posix.resolve(dockerfile.workdir, copy.dest)), source)
      copyFileSync(join(EXAMPLE, source), dest)
    }
  }
  mkdirSync(join(TASK_ROOT, 'node_modules'), { recursive: true })
  symlinkSync(REPO, join(TASK_ROOT, 'node_modules', 'middy-snapstart'), 'dir')
  return workdir
}

describe('examples/container/Dockerfile, run as written through the emulator', () => {
  it('is built on the Node.js 22 base image, the runtime as ENTRYPOINT, the handler as CMD', () => {
    expect(dockerfile.from).toBe('public.ecr.aws/lambda/nodejs:22')
    expect(dockerfile.workdir).toBe('/var/task')
    expect(dockerfile.entrypoint).toEqual([
      '/var/lang/bin/node',
      '/var/task/node_modules/middy-snapstart/dist/runtime-bin.js',
    ])
    expect(dockerfile.cmd).toEqual(['handler.handler'])
  })

  it('serves invocations after init, before-snapshot, a freeze and a restore', async () => {
    const workdir = buildTaskRoot()
    expect(workdir).toBe(TASK_ROOT)
    const [command, ...args] = [...dockerfile.entrypoint, ...dockerfile.cmd].map(mapPath)
    const env = Object.fromEntries(
      Object.entries(dockerfile.env).map(([key, value]) => [key, mapPath(value)]),
    )

    const emulator = await start({
      // Sets the task root and working directory (WORKDIR); `_HANDLER` is emptied so the
      // runtime takes the handler from its CMD argument alone, as an image gives it.
      handler: join(workdir, dockerfile.cmd[0]!),
      runtime: { command: command!, args },
      env: { ...env, _HANDLER: '' },
    })
    const restored = await emulator.restore()
    const first = await emulator.invoke({ name: 'Ada' })
    const second = await emulator.invoke({})

    expect(env).toEqual({
      SNAPSTART_RNG_RESEED: 'true',
      SNAPSTART_POOL_RESET: 'true',
      SNAPSTART_LOG_LEVEL: 'info',
    })
    expect(emulator.beforeSnapshot?.status).toBe('ok')
    expect(emulator.beforeSnapshot?.hooks.map((hook) => hook.name)).toEqual([
      'pool-reset:https.globalAgent',
      'pool-reset:http.globalAgent',
      'pool-reset:fetch',
    ])
    expect(restored.report?.hooks.map((hook) => [hook.name, hook.status])).toEqual([
      ['rng-reseed', 'ok'],
      ['pool-reset:fetch', 'ok'],
      ['pool-reset:http.globalAgent', 'ok'],
      ['pool-reset:https.globalAgent', 'ok'],
    ])
    expect(restored.report?.budgetMs).toBe(9000)
    expect(first).toMatchObject({
      status: 'ok',
      response: { hello: 'Ada', restored: true, firstInvocationAfterRestore: true },
    })
    expect(second).toMatchObject({
      status: 'ok',
      response: { hello: 'world', restored: true, firstInvocationAfterRestore: false },
    })
    const [a, b] = [first.response, second.response] as { bootId: string; requestUuid: string }[]
    expect(a!.bootId).toBe(b!.bootId)
    expect(a!.requestUuid).not.toBe(b!.requestUuid)
    expect(emulator.timeline.map((step) => step.kind).filter((kind) => kind !== 'hook')).toEqual([
      'init',
      'beforeSnapshot',
      'frozen',
      'restore',
      'afterRestore',
      'invoke',
      'invoke',
    ])
  })
})
