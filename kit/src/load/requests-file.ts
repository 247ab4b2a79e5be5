/**
 * A requests file: the requests a real service gets, each with a weight, for
 * the closed-loop clients to draw from. JSON or YAML (YAML 1.2, of which JSON
 * is a subset, so one parser reads both), either a list or `{ requests: [...] }`:
 *
 *     requests:
 *       - { method: GET, path: /, weight: 5 }
 *       - { name: slow report, method: GET, path: /reports/slow, weight: 1 }
 *       - method: POST
 *         path: /orders
 *         headers: { authorization: Bearer test }
 *         body: { sku: 42, quantity: 1 }      # an object is sent as JSON
 *         weight: 2
 *
 * Every mistake is refused up front with its place in the file, never
 * replaced by a default.
 */
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import type { WeightedRequest } from './traffic.js'

const KEYS = new Set(['name', 'method', 'path', 'headers', 'body', 'weight'])

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function headersOf (at: string, raw: unknown): Record<string, string> | undefined {
  if (raw === undefined) return undefined
  if (!isObject(raw) || Object.values(raw).some((v) => typeof v !== 'string')) throw new TypeError(`${at}.headers must be a map of header names to strings, got ${JSON.stringify(raw)}`)
  return raw as Record<string, string>
}

/** One entry, checked: `at` names its place (`requests.yaml: requests[2]`). */
function requestOf (at: string, raw: unknown): WeightedRequest {
  if (!isObject(raw)) throw new TypeError(`${at} must be a map with method and path, got ${JSON.stringify(raw)}`)
  const unknown = Object.keys(raw).filter((k) => !KEYS.has(k))
  if (unknown.length > 0) throw new TypeError(`${at} has unknown key(s) ${unknown.join(', ')}; expected ${[...KEYS].join(', ')}`)
  const { name, method, path, body, weight = 1 } = raw
  if (typeof method !== 'string' || !/^[A-Z]+$/.test(method)) throw new TypeError(`${at}.method must be an HTTP method in capitals (GET, POST, ...), got ${JSON.stringify(method)}`)
  if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`${at}.path must be a path starting with /, got ${JSON.stringify(path)}`)
  if (name !== undefined && (typeof name !== 'string' || name === '')) throw new TypeError(`${at}.name must be a non-empty string, got ${JSON.stringify(name)}`)
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) throw new TypeError(`${at}.weight must be a number > 0, got ${JSON.stringify(weight)}`)
  const headers = headersOf(at, raw.headers)
  return Object.freeze({
    method,
    path,
    weight,
    ...(name === undefined ? {} : { name }),
    ...(headers === undefined ? {} : { headers: Object.freeze({ ...headers }) }),
    // A string is sent as it is; anything else as its JSON.
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) })
  })
}

/** The requests of a parsed file, checked and frozen. */
export function requestsOf (file: string, doc: unknown): readonly WeightedRequest[] {
  const list = isObject(doc) ? doc.requests : doc
  if (!Array.isArray(list) || list.length === 0) throw new TypeError(`${file} must hold a non-empty list of requests (or requests: [...])`)
  return Object.freeze(list.map((raw, i) => requestOf(`${file}: requests[${i}]`, raw)))
}

/** Reads and checks a requests file (JSON or YAML). */
export async function readRequestsFile (file: string): Promise<readonly WeightedRequest[]> {
  let doc: unknown
  try {
    doc = parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw new TypeError(`cannot read the requests file ${file}: ${(err as Error).message}`)
  }
  return requestsOf(file, doc)
}
