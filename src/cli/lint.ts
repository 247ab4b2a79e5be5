// STUB — replaced by the helper that owns the 'lint' command.
export async function run (argv: string[]): Promise<number> {
  void argv
  process.stderr.write('fastify-zero-downtime lint: not implemented yet\n')
  return 2
}
