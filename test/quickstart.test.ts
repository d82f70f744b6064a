import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
// @ts-expect-error: a plain JavaScript module of the example, without types
import { startEmbeddedPostgres } from '../examples/quickstart/embedded-postgres.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const demo = 'examples/quickstart/demo.mjs'
const whileFrozen = 'examples/quickstart/while-frozen.mjs'
const realPostgres = 'postgres://postgres@127.0.0.1:5432/test'
const APPLICATION_NAME = 'middy-snapstart-quickstart'

const children = new Set<ChildProcess>()
const cleanups: Array<() => Promise<unknown>> = []

afterEach(async () => {
  for (const child of children) child.kill('SIGKILL')
  children.clear()
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Runs `node script args` from the repository root; resolves when it exits. */
function runNode(script: string, args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.once('close', (code) => {
      children.delete(child)
      resolve({ code, stdout, stderr })
    })
  })
}

/** The step labels of the timeline, in order: hooks keep their two-space indent. */
function timelineLabels(stderr: string): string[] {
  const pattern = /^(.+?) {2,}(ok|failed|skipped|timed-out) +\d+\.\d ms/
  return stderr.split('\n').flatMap((line) => {
    const match = pattern.exec(line)
    return match ? [match[1]!] : []
  })
}

/** Asserts the demo's two answers and its timeline. */
function expectTwoRestoredAnswers(result: { code: number | null; stdout: string; stderr: string }) {
  expect(result.code, result.stderr).toBe(0)
  const responses = result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
  expect(responses.map((response) => response.statusCode)).toEqual([200, 200])
  const bodies = responses.map((response) => JSON.parse(response.body))
  expect(bodies).toEqual([
    {
      greeting: 'hello from a restored snapshot',
      configVersion: 2,
      database: { now: expect.any(String), two: 2, connectionOpenedIn: 'afterRestore' },
      invocation: 1,
      snapStart: {
        initializationType: 'snap-start',
        restored: true,
        firstInvocationAfterRestore: true,
      },
      event: {},
    },
    {
      greeting: 'hello from a restored snapshot',
      configVersion: 2,
      database: { now: expect.any(String), two: 2, connectionOpenedIn: 'afterRestore' },
      invocation: 2,
      snapStart: {
        initializationType: 'snap-start',
        restored: true,
        firstInvocationAfterRestore: false,
      },
      event: {},
    },
  ])
  expect(timelineLabels(result.stderr)).toEqual([
    'init',
    'before-snapshot',
    '  database',
    'frozen',
    'restore',
    'after-restore',
    '  database',
    '  reloadConfig',
    'invoke #1',
    'invoke #2',
  ])
  // The before-snapshot hook closed the function's connection, so none was left to drop.
  expect(result.stderr).toContain(
    'while frozen: dropped 0 database connection(s); config version now 2\n',
  )
}

/** Opens a connection the way the example does, and records when the server drops it. */
async function openExampleConnection(url: string) {
  const client = new pg.Client({ connectionString: url, application_name: APPLICATION_NAME })
  const dropped = new Promise<string>((resolve) => {
    client.on('error', (error) => resolve(error.message))
  })
  await client.connect()
  await client.query('select 1')
  cleanups.push(() => client.end().catch(() => {}))
  return { client, dropped }
}

describe('quickstart with the embedded PostgreSQL', () => {
  it('npm run demo answers twice after a restore, with every hook on the timeline', async () => {
    expectTwoRestoredAnswers(await runNode(demo, [], {}))
  })

  it('the while-frozen script really drops open connections', async () => {
    const database = await startEmbeddedPostgres()
    cleanups.push(() => database.close())
    const { client, dropped } = await openExampleConnection(database.url)

    const result = await runNode(whileFrozen, [], { QUICKSTART_DB_CONTROL: database.controlUrl })

    expect(result).toEqual({
      code: 0,
      stdout:
        'while frozen: dropped 1 database connection(s); config version now unchanged ' +
        '(QUICKSTART_CONFIG unset)\n',
      stderr: '',
    })
    expect(await dropped).toBe('Connection terminated unexpectedly')
    await expect(client.query('select 1')).rejects.toThrow()
    const fresh = await openExampleConnection(database.url)
    expect((await fresh.client.query('select 2 as two')).rows).toEqual([{ two: 2 }])
  })
})

describe('quickstart with PostgreSQL at 127.0.0.1:5432', () => {
  it('answers twice after a restore while pg_terminate_backend ran during the pause', async () => {
    expectTwoRestoredAnswers(await runNode(demo, [], { DATABASE_URL: realPostgres }))
  })

  it('the while-frozen script terminates the example connections, and only those', async () => {
    const example = await openExampleConnection(realPostgres)
    const other = new pg.Client({ connectionString: realPostgres, application_name: 'bystander' })
    await other.connect()
    cleanups.push(() => other.end())

    const result = await runNode(whileFrozen, [], { DATABASE_URL: realPostgres })

    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toBe(
      'while frozen: dropped 1 database connection(s); config version now unchanged ' +
        '(QUICKSTART_CONFIG unset)\n',
    )
    expect(await example.dropped).toBe('terminating connection due to administrator command')
    expect((await other.query('select 3 as three')).rows).toEqual([{ three: 3 }])
  })
})
