// Run by `snapstart run --while-frozen` while the function is frozen at its snapshot point.
// It does what the world does to a snapshot while it waits: the database drops the
// function's connections, and the configuration moves on.
//
// Environment:
//   QUICKSTART_DB_CONTROL  the embedded database's drop-connections URL (demo.mjs sets it)
//   DATABASE_URL           otherwise: a real PostgreSQL, where this script terminates the
//                          backends the example opened (found by their application_name)
//   QUICKSTART_CONFIG      the config file whose "version" goes up by one
import { readFile, writeFile } from 'node:fs/promises'
import pg from 'pg'
import { APPLICATION_NAME } from './database.mjs'

const dropped = await dropConnections()
const version = await bumpConfigVersion()
console.log(
  `while frozen: dropped ${dropped} database connection(s); config version now ${version}`,
)

async function dropConnections() {
  if (process.env.QUICKSTART_DB_CONTROL) {
    const response = await fetch(process.env.QUICKSTART_DB_CONTROL, { method: 'POST' })
    if (!response.ok) throw new Error(`drop-connections answered ${response.status}`)
    return (await response.json()).dropped
  }
  if (!process.env.DATABASE_URL) throw new Error('set QUICKSTART_DB_CONTROL or DATABASE_URL')
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await client.connect()
  try {
    const { rows } = await client.query(
      `select pg_terminate_backend(pid) as terminated from pg_stat_activity
        where application_name = $1 and pid <> pg_backend_pid()`,
      [APPLICATION_NAME],
    )
    return rows.filter((row) => row.terminated).length
  } finally {
    await client.end()
  }
}

async function bumpConfigVersion() {
  const file = process.env.QUICKSTART_CONFIG
  if (!file) return 'unchanged (QUICKSTART_CONFIG unset)'
  const config = JSON.parse(await readFile(file, 'utf8'))
  config.version += 1
  await writeFile(file, `${JSON.stringify(config)}\n`)
  return config.version
}
