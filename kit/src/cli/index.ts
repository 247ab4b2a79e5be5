#!/usr/bin/env node
/**
 * `fastify-zero-downtime-kit <command>`: each command lives in its own module and
 * exports `run(argv): Promise<number>` (the exit code), so this file only
 * dispatches and owns the process exit code.
 */
// Imported statically, not with import(): tsx (which runs the sources in the
// tests and their child processes) appends an ESM/CommonJS interop branch to
// every import() that no module of ours can take, and coverage is checked at 100 %.
import { inspect } from 'node:util'
import { run as check } from './check.js'
import { run as lint } from './lint.js'
import { run as rollout } from './rollout.js'

const COMMANDS: Record<string, { summary: string, run: (argv: string[]) => Promise<number> }> = {
  rollout: { summary: 'simulate a Kubernetes rolling update of real processes under load and count every dropped request', run: rollout },
  check: { summary: 'count dropped requests against a URL while a real cluster rollout runs', run: check },
  lint: { summary: 'report Kubernetes manifest mistakes that drop requests', run: lint }
}

function usage (): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`)
  return `usage: fastify-zero-downtime-kit <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun a command with --help for its options.\n`
}

export async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(usage())
    return name === undefined ? 2 : 0
  }
  const command = COMMANDS[name]
  if (command === undefined) {
    process.stderr.write(`fastify-zero-downtime-kit: unknown command ${JSON.stringify(name)}\n\n${usage()}`)
    return 2
  }
  return await command.run(rest)
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (err: unknown) => {
    // A failure no command turned into an exit code: its stack and properties (code, path) for the bug report.
    process.stderr.write(`fastify-zero-downtime-kit: ${inspect(err)}\n`)
    process.exitCode = 1
  }
)
