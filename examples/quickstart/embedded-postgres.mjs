import { createServer } from 'node:http'
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

const HOST = '127.0.0.1'
/** The function holds one connection; the demo's own checks may hold a few more. */
const MAX_CONNECTIONS = 8

/**
 * Starts an in-memory PostgreSQL (PGlite) served over TCP on 127.0.0.1, on a port the
 * system picks, plus a control endpoint on 127.0.0.1 whose `POST /drop-connections` drops
 * every client connection, as a database or a NAT gateway does to connections that sat in a
 * snapshot. It restarts the socket server on the same port and answers `{ "dropped": N }`.
 *
 * Resolves to `{ url, controlUrl, close }`; `close()` stops both servers and the database.
 */
export async function startEmbeddedPostgres() {
  const db = await PGlite.create()
  let sockets = await listen(db, 0)
  const port = Number(sockets.getServerConn().split(':').at(-1))

  const control = createServer((request, response) => {
    if (request.method !== 'POST' || request.url !== '/drop-connections') {
      response.writeHead(404).end()
      return
    }
    dropConnections().then(
      (dropped) => response.writeHead(200).end(JSON.stringify({ dropped })),
      (error) => response.writeHead(500).end(JSON.stringify({ error: String(error) })),
    )
  })
  await new Promise((resolve) => control.listen(0, HOST, resolve))

  async function dropConnections() {
    const dropped = sockets.getStats().activeConnections
    await sockets.stop()
    sockets = await listen(db, port)
    return dropped
  }

  return {
    url: `postgres://postgres@${HOST}:${port}/postgres`,
    controlUrl: `http://${HOST}:${control.address().port}/drop-connections`,
    async close() {
      control.closeAllConnections()
      await new Promise((resolve) => control.close(resolve))
      await sockets.stop()
      await db.close()
    },
  }
}

async function listen(db, port) {
  const server = new PGLiteSocketServer({ db, host: HOST, port, maxConnections: MAX_CONNECTIONS })
  await server.start()
  return server
}
