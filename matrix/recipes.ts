/**
 * The recipes the matrix compares: one server file each under
 * matrix/recipes/, what the kit needs to run it (its readiness path) and what
 * the results document says about it. The order is the table's.
 */
import { readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MatrixError } from './errors.js'

export const RECIPES_DIR = fileURLToPath(new URL('./recipes/', import.meta.url))

export interface Recipe {
  /** The file name under matrix/recipes/ without `.ts`; the row's key. */
  readonly id: string
  readonly title: string
  /** The npm packages the recipe's shutdown handling comes from (versions go in the document). */
  readonly packages: readonly string[]
  /** Where the kit's kubelet-like prober asks whether a new pod is ready. */
  readonly readinessPath: string
  /** How it is set up and where that comes from, for the document (Markdown). */
  readonly setup: string
  /**
   * Scenarios this recipe cannot serve the way its README shows, with why:
   * the cell says `n/a: <why>` instead of a number. Every recipe serves
   * h2c and SSE today (Fastify does; the libraries wrap its server).
   */
  readonly notApplicable?: Readonly<Record<string, string>>
}

export const RECIPES: readonly Recipe[] = Object.freeze([
  {
    id: 'plain-fastify',
    title: 'plain Fastify',
    packages: ['fastify'],
    readinessPath: '/',
    setup: '`app.listen()` and nothing else. No SIGTERM handler: Node\'s default action ends the process when the signal arrives.'
  },
  {
    id: 'close-with-grace',
    title: 'Fastify + close-with-grace',
    packages: ['fastify', 'close-with-grace'],
    readinessPath: '/',
    setup: 'As the Fastify project generates it (fastify-cli\'s `server.js` template, the fastify/demo app): `closeWithGrace({ delay: 500 }, async () => { await app.close() })`. `app.close()` starts at SIGTERM (503 for requests arriving while it closes, idle sockets closed), and the process exits 500 ms after the signal.'
  },
  {
    id: 'terminus',
    title: '@godaddy/terminus',
    packages: ['@godaddy/terminus'],
    readinessPath: '/healthcheck',
    setup: 'Its README\'s "How to set Terminus up with Kubernetes": `createTerminus(app.server, { healthChecks: { \'/healthcheck\': … }, beforeShutdown: 5 s sleep, useExit0: true })`; `timeout` left at its 1000 ms default (sockets still open 1 s after the listener closed are destroyed).'
  },
  {
    id: 'lightship',
    title: 'lightship',
    packages: ['lightship'],
    readinessPath: '/ready',
    setup: 'Its README\'s "Using with Express.js" and "Timeouts": `signalReady()` after `listen()`, a shutdown handler calling `app.close()`; `shutdownDelay` 5 s (its Kubernetes default). `detectKubernetes: false` keeps its Kubernetes mode on a machine without `KUBERNETES_SERVICE_HOST`, `port: 0` gives its probe server a free port (the replicas share one machine), and `/ready` on the service\'s port answers with lightship\'s readiness state (the kit probes the service\'s port).'
  },
  {
    id: 'http-terminator',
    title: 'http-terminator',
    packages: ['http-terminator'],
    readinessPath: '/',
    setup: 'Its README\'s "Usage with Fastify": `createHttpTerminator({ server: app.server })`, and `terminate()` on SIGTERM. Its README has no delay, readiness or Kubernetes advice. `gracefulTerminationTimeout` left at its default: 1000 ms in the code (the README says 5000).'
  },
  {
    id: 'fastify-graceful-shutdown',
    title: 'fastify-graceful-shutdown',
    packages: ['fastify-graceful-shutdown'],
    readinessPath: '/',
    setup: 'Its README\'s "Usage": the plugin registered and a `gracefulShutdown` handler added in `after()`. On SIGTERM: the handlers, `fastify.close()`, exit 0 (exit 1 after its 10 s timeout). No delay, no readiness route in its README.'
  },
  {
    id: 'zero-downtime',
    title: 'fastify-zero-downtime, this plugin',
    packages: ['fastify-zero-downtime'],
    readinessPath: '/ready',
    setup: 'Its defaults: `app.register(zeroDowntime)` and `listen()`; the event stream ends with a reconnect hint at drain start (`onGoAway` + `endEventStream`, as docs/drain.md shows). The drain reads `TERMINATION_GRACE_PERIOD_SECONDS` and `PRESTOP_SLEEP_SECONDS`, which the kit sets like the reference manifest.'
  }
])

/** The recipe files present, so a file without metadata (or the reverse) is caught before any run. */
export function recipeFiles (dir = RECIPES_DIR): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => basename(f, '.ts')).sort()
}

export function checkRecipes (dir = RECIPES_DIR): void {
  const files = recipeFiles(dir)
  const known = RECIPES.map((r) => r.id)
  const missing = files.filter((f) => !known.includes(f))
  const orphans = known.filter((id) => !files.includes(id))
  if (missing.length > 0 || orphans.length > 0) {
    throw new MatrixError(`matrix/recipes.ts and matrix/recipes/ disagree: ${[
      ...missing.map((f) => `${f}.ts has no entry in RECIPES`),
      ...orphans.map((id) => `RECIPES has ${id} but there is no ${join(dir, `${id}.ts`)}`)
    ].join('; ')}`)
  }
}

/** Where `tsc -p matrix/tsconfig.json` (npm run matrix's prematrix step) puts the compiled recipes. */
export const RECIPES_BUILD_DIR = 'matrix/build/recipes'

/**
 * The pod's start command: compiled JavaScript, as an image runs it. Under
 * tsx every pod start would compile first, and a start slower than the
 * readiness period delays each step of the rollout by a whole period.
 */
export function recipeCommand (recipe: Recipe): string {
  return `node ${RECIPES_BUILD_DIR}/${recipe.id}.js`
}
