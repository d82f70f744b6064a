// A function whose init does about 300 ms of module-level work: it builds a pricing table
// and a search index at load, as services that precompute lookup data do. In a startup
// snapshot that work is done once, at build time; a restored process starts with the result.
import { registerAfterRestore } from 'middy-snapstart'

const PRODUCTS = Number(process.env.HEAVY_INIT_PRODUCTS ?? 60_000)
const ROUNDS = Number(process.env.HEAVY_INIT_ROUNDS ?? 320)

function buildCatalog(count) {
  let seed = 42
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
    return seed / 2_147_483_648
  }
  const words = ['red', 'blue', 'steel', 'oak', 'lamp', 'desk', 'chair', 'mug', 'pen', 'rug']
  const catalog = []
  for (let id = 0; id < count; id++) {
    const name = `${words[Math.floor(next() * 10)]} ${words[Math.floor(next() * 10)]} ${id}`
    catalog.push({ id, name, basePrice: Math.round(next() * 10_000) / 100 })
  }
  return catalog
}

function buildPriceTable(catalog, rounds) {
  const table = new Float64Array(catalog.length)
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < catalog.length; i++) {
      table[i] = Math.sqrt(table[i] + catalog[i].basePrice * (round + 1)) + Math.sin(i + round)
    }
  }
  return table
}

/** The first 100 product ids per word of the name (the id itself is not indexed). */
function buildIndex(catalog) {
  const index = new Map()
  for (const product of catalog) {
    for (const token of product.name.split(' ').slice(0, 2)) {
      const list = index.get(token)
      if (list === undefined) index.set(token, [product.id])
      else if (list.length < 100) list.push(product.id)
    }
  }
  return new Map([...index].map(([token, ids]) => [token, Int32Array.from(ids)]))
}

// Only the derived tables stay in memory (and so in the snapshot); the catalog is garbage.
function init() {
  const catalog = buildCatalog(PRODUCTS)
  return { prices: buildPriceTable(catalog, ROUNDS), index: buildIndex(catalog) }
}

const started = performance.now()
const { prices, index } = init()
const initMs = performance.now() - started

let restored = false
registerAfterRestore(function noteRestore() {
  restored = true
})

export const handler = async (event) => {
  const ids = index.get(event.query ?? 'lamp') ?? new Int32Array(0)
  return {
    query: event.query ?? 'lamp',
    matches: ids.length,
    firstPrice: ids.length > 0 ? Number(prices[ids[0]].toFixed(4)) : null,
    initMs: Math.round(initMs),
    restored,
  }
}
