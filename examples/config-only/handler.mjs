// Pool reset, secret refresh and RNG reseed without writing a single hook.
//
// The pool is an object only code can hand over, so it is named in snapStart()'s options.
// The secret and the reseed come from the environment, set on the function:
//
//   SNAPSTART_SECRETS={"apiKey":{"source":"secretsManager","secretId":"prod/api-key"}}
//   SNAPSTART_RNG_RESEED=true
//
// The snapstart runtime reads those before it loads this module, so after each restore the
// random state is reseeded first, the pool's connections are opened again, and the secret is
// fetched again (it may have been rotated while the snapshot was stored).
import { createHash } from 'node:crypto'
import middy from '@middy/core'
import { snapStart } from 'middy-snapstart'
import pg from 'pg'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 3 })
// An idle client the server drops emits here; without a listener the process would exit.
pool.on('error', () => {})

// Warm two connections during init: the snapshot keeps the work done, not the sockets.
await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 1')])

async function nextNumber(event, context) {
  const { rows } = await pool.query('SELECT $1::int + 1 AS next', [event.n ?? 0])
  return {
    next: rows[0].next,
    // Never return or log a secret; a fingerprint shows which version was used.
    apiKeySha256: createHash('sha256').update(String(context.apiKey)).digest('hex'),
    random: Math.random(),
  }
}

export const handler = middy()
  .use(snapStart({ poolReset: { resources: { db: pool } } }))
  .handler(nextNumber)
