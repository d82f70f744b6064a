// A Lambda handler with SnapStart: the pool is built at module load (during init), its
// connections are closed before the snapshot and opened again after the restore.
import middy from '@middy/core'
import { snapStart } from 'middy-snapstart'
import { poolReset } from 'middy-snapstart/pool-reset'
import pg from 'pg'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 5 })
// An idle client the server drops emits here; without a listener the process would exit.
pool.on('error', () => {})

// Warm the pool during init: the snapshot keeps the work done, not the sockets.
await pool.query('SELECT 1')

async function listUsers() {
  const { rows } = await pool.query('SELECT id, name FROM users ORDER BY id LIMIT 10')
  return { statusCode: 200, body: JSON.stringify(rows) }
}

export const handler = middy(listUsers)
  .use(snapStart())
  .use(poolReset({ resources: { db: pool }, prewarm: 2 }))
