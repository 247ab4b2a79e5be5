// The CommonJS build's prom-client.ts (tshy's dialect switch): `import.meta`
// does not exist there, `require` does.
export type PromClient = typeof import('prom-client')

export function requirePromClient (): PromClient {
  return require('prom-client') as PromClient
}
