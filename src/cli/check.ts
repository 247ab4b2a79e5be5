// STUB — replaced by the helper that owns the 'check' command.
export async function run (argv: string[]): Promise<number> {
  void argv
  process.stderr.write('fastify-zero-downtime check: not implemented yet\n')
  return 2
}
