// `npm run bench`: runs every bench module in this folder, prints a table, then all figures
// as one JSON object on the last line. Each module exports `bench()` resolving to
// `{ rows: [label, value, goal][], figures: Record<string, number> }`.
import { readdirSync } from 'node:fs'

const here = new URL('./', import.meta.url)
const modules = readdirSync(here)
  .filter((file) => file.endsWith('.mjs') && file !== 'run.mjs')
  .sort()

const rows = []
const figures = {}
for (const file of modules) {
  const { bench } = await import(new URL(file, here).href)
  const result = await bench()
  rows.push(...result.rows)
  Object.assign(figures, result.figures)
}

const width = Math.max(...rows.map((row) => row[0].length))
for (const [label, value, goal] of rows) {
  console.log(`${label.padEnd(width)}  ${String(value).padStart(12)}  ${goal}`)
}
console.log(JSON.stringify(figures))
