import { readFile } from 'node:fs/promises'
import middy from '@middy/core'
import { registerAfterRestore, registerResource, snapStart } from 'middy-snapstart'
import { connect } from './database.mjs'

const configFile = process.env.QUICKSTART_CONFIG ?? new URL('./config.json', import.meta.url)

// Init: everything here lands in the snapshot.
let config = await loadConfig()
const QUERY = 'select now() as now, 1 + 1 as two'

let database = await connect('init')
let invocations = 0

// A connection in a snapshot is dead in every restored copy: close it before the snapshot
// and open a new one after the restore. The after-restore half also rolls back a failed
// before-snapshot phase.
registerResource({
  name: 'database',
  async beforeSnapshot() {
    await database.client.end()
    return { closed: 1 }
  },
  async afterRestore() {
    database = await connect('afterRestore')
    // Check that the new connection answers the function's own query before the restore
    // counts as done: its first round trip is the slowest, and this way the restore budget
    // pays for it, not the first invocation.
    await database.client.query(QUERY)
    return { opened: 1 }
  },
})

// Configuration may have changed between the snapshot and this restore.
registerAfterRestore(async function reloadConfig() {
  config = await loadConfig()
})

async function loadConfig() {
  return JSON.parse(await readFile(configFile, 'utf8'))
}

async function quickstart(event, context) {
  if (database.broken) database = await connect('invocation')
  // A priming invocation runs the same code before the snapshot; it must not count.
  if (!context.snapStart.priming) invocations += 1
  const { rows } = await database.client.query(QUERY)
  const { initializationType, restored, firstInvocationAfterRestore } = context.snapStart
  return {
    statusCode: 200,
    body: JSON.stringify({
      greeting: config.greeting,
      configVersion: config.version,
      database: { now: rows[0].now, two: rows[0].two, connectionOpenedIn: database.openedIn },
      invocation: invocations,
      snapStart: { initializationType, restored, firstInvocationAfterRestore },
      event,
    }),
  }
}

// QUICKSTART_PRIME=1: before the snapshot, send an event like the real ones (`{}` here) 20
// times through the whole handler and its query, so the first invocation after a restore
// finds that code compiled and optimized: V8 optimizes a function only after it has run
// several times, for the object shapes it saw.
const prime = process.env.QUICKSTART_PRIME === '1' ? { events: [{}], times: 20 } : undefined

export const handler = middy().use(snapStart({ prime })).handler(quickstart)
