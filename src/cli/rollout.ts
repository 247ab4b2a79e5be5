// STUB — replaced by the helper that owns the 'rollout' command.
export async function run (argv: string[]): Promise<number> {
  void argv
  process.stderr.write('fastify-zero-downtime rollout: not implemented yet\n')
  return 2
}
