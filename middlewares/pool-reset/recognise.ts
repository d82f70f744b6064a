import type { Adapter } from './adapter.js'
import { customAdapter, isCustomResource } from './adapters/custom.js'
import {
  awsSdkAdapter,
  httpAgentAdapter,
  isAwsSdkClient,
  isHttpAgent,
} from './adapters/http-agent.js'
import { isMongoClient, mongoClientAdapter } from './adapters/mongodb.js'
import { isMysqlPool, isMysqlPromisePool, mysqlPoolAdapter } from './adapters/mysql2.js'
import { isPgClient, isPgPool, pgClientAdapter, pgPoolAdapter } from './adapters/pg.js'
import { ioredisAdapter, isIORedis, isNodeRedis, nodeRedisAdapter } from './adapters/redis.js'
import {
  globalFetchAdapter,
  isGlobalFetch,
  isUndiciDispatcher,
  undiciAgentAdapter,
} from './adapters/undici.js'

/** What `resources` accepts, for error messages. */
export const ACCEPTED =
  'a pg Pool or Client, a mysql2 pool (callback or promise API), an ioredis client, a redis ' +
  '(node-redis) client, an http.Agent or https.Agent, an undici Agent, the global fetch ' +
  'function, an AWS SDK v3 client, a mongodb MongoClient, or { name, close(), reopen?() }'

/**
 * The adapter for `value`, recognised by its public methods and properties (no driver is
 * imported), or undefined when it is none of the accepted kinds.
 */
export function recognise(value: unknown): Adapter | undefined {
  if (isGlobalFetch(value)) return globalFetchAdapter()
  if (typeof value !== 'object' || value === null) return undefined

  if (isPgPool(value)) return pgPoolAdapter(value)
  if (isPgClient(value)) return pgClientAdapter(value)
  if (isMysqlPool(value)) return mysqlPoolAdapter(value, 'mysql2.Pool')
  if (isMysqlPromisePool(value)) return mysqlPoolAdapter(value.pool, 'mysql2.PromisePool')
  if (isIORedis(value)) return ioredisAdapter(value)
  if (isNodeRedis(value)) return nodeRedisAdapter(value)
  if (isHttpAgent(value)) return httpAgentAdapter(value)
  if (isAwsSdkClient(value)) return awsSdkAdapter(value)
  if (isMongoClient(value)) return mongoClientAdapter(value)
  if (isUndiciDispatcher(value)) return undiciAgentAdapter(value)
  if (isCustomResource(value)) return customAdapter(value)
  return undefined
}
