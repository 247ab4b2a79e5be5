/**
 * prom-client, an optional peer, loaded only when `metrics` is given.
 *
 * Through `require`, not `import()`: prom-client is CommonJS, so `require`
 * hands over its exports as they are in both of the package's builds (this
 * file in the ESM one, prom-client-cjs.cts in the CommonJS one), with no
 * interop layer (`import()` wraps them in a namespace whose `default` is
 * module.exports, and a TypeScript loader adds its own unwrapping on top).
 */
import { createRequire } from 'node:module'

export type PromClient = typeof import('prom-client')

export function requirePromClient (): PromClient {
  // tshy's CommonJS pass type-checks this file before prom-client-cjs.cts
  // replaces it, and import.meta is an error there (its documented way out).
  // @ts-ignore
  return createRequire(import.meta.url)('prom-client') as PromClient
}
