// `npm run demo`: the quick start, end to end. Runs handler.mjs through `snapstart run`:
// init connects to PostgreSQL, the before-snapshot hook closes the connection, the function
// is frozen for a second while the database drops its clients and the config changes, then
// the after-restore hooks reconnect and reload, and two invocations answer.
//
// With DATABASE_URL unset it starts an embedded PostgreSQL (PGlite) on 127.0.0.1, so it
// needs nothing but `npm ci`. Extra arguments go to `snapstart run`, for example --json.
import { spawn } from 'node:child_process'
import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startEmbeddedPostgres } from './embedded-postgres.mjs'

const root = fileURLToPath(new URL('../..', import.meta.url))
const here = fileURLToPath(new URL('.', import.meta.url))

const scratch = await mkdtemp(join(tmpdir(), 'snapstart-quickstart-'))
const config = join(scratch, 'config.json')
await copyFile(join(here, 'config.json'), config)

const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres()
const databaseUrl = process.env.DATABASE_URL || embedded.url
process.stderr.write(
  embedded
    ? `demo: embedded PostgreSQL (PGlite) at ${embedded.url}\n`
    : 'demo: PostgreSQL from DATABASE_URL\n',
)

const whileFrozen = [process.execPath, join(here, 'while-frozen.mjs')].map(quote).join(' ')
const args = [
  join(root, 'dist', 'emulator-cli.js'),
  'run',
  'examples/quickstart/handler.mjs',
  '--frozen',
  '1s',
  '--while-frozen',
  whileFrozen,
  '--repeat',
  '2',
  '--env',
  `DATABASE_URL=${databaseUrl}`,
  '--env',
  `QUICKSTART_CONFIG=${config}`,
  ...process.argv.slice(2),
]
const env = { ...process.env, DATABASE_URL: databaseUrl, QUICKSTART_CONFIG: config }
if (embedded) env.QUICKSTART_DB_CONTROL = embedded.controlUrl

// Ctrl-C reaches the CLI too; wait for it to stop the function, then clean up here.
process.on('SIGINT', () => {})
const code = await new Promise((resolve) => {
  const cli = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' })
  cli.once('error', (error) => {
    process.stderr.write(`demo: could not start the CLI: ${error.message}\n`)
    resolve(1)
  })
  cli.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)))
})

await embedded?.close()
await rm(scratch, { recursive: true, force: true })
process.exitCode = code

/** Quotes `text` for a POSIX shell. */
function quote(text) {
  return `'${text.replaceAll("'", `'\\''`)}'`
}
