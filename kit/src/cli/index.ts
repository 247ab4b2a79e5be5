#!/usr/bin/env node
/**
 * `fastify-zero-downtime-kit <command>`: each command lives in its own module and
 * exports `run(argv): Promise<number>` (the exit code), so this file only
 * dispatches and owns the process exit code.
 */
const COMMANDS: Record<string, { summary: string, load: () => Promise<{ run: (argv: string[]) => Promise<number> }> }> = {
  rollout: { summary: 'simulate a Kubernetes rolling update of real processes under load and count every dropped request', load: async () => await import('./rollout.js') },
  check: { summary: 'count dropped requests against a URL while a real cluster rollout runs', load: async () => await import('./check.js') },
  lint: { summary: 'report Kubernetes manifest mistakes that drop requests', load: async () => await import('./lint.js') }
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
  return await (await command.load()).run(rest)
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (err: unknown) => {
    process.stderr.write(`fastify-zero-downtime-kit: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
    process.exitCode = 1
  }
)
