import pg from 'pg'

/** How the example's connections show in `pg_stat_activity`, so tools can find them. */
export const APPLICATION_NAME = 'middy-snapstart-quickstart'

/**
 * Opens a connection to `DATABASE_URL`. `openedIn` records which phase opened it, so the
 * handler can show it. The returned `broken` turns true when the server drops the
 * connection while it is idle.
 */
export async function connect(openedIn) {
  if (!process.env.DATABASE_URL) {
    throw new Error('DATABASE_URL is not set: give the function a postgres:// URL')
  }
  const client = new pg.Client({
    connectionString: process.env.DATABASE_URL,
    application_name: APPLICATION_NAME,
  })
  const connection = { client, openedIn, broken: false }
  // Without a listener, a connection dropped while idle would crash the process through
  // its 'error' event; mark it instead, and let the next invocation reopen it.
  client.on('error', () => {
    connection.broken = true
  })
  await client.connect()
  return connection
}
