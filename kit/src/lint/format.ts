import type { Finding } from './types.js'

function where (f: Finding): string {
  return `${f.file}${f.line === undefined ? '' : `:${f.line}`}${f.via === undefined ? '' : ` (via ${f.via})`}`
}

/** One block per finding, grouped by nothing: the order is the rules' order per unit. */
export function formatHuman (findings: readonly Finding[]): string {
  const errors = findings.filter((f) => f.severity === 'error').length
  const warnings = findings.length - errors
  const blocks = findings.map((f) =>
    `${f.severity} ${f.rule}  ${where(f)}\n` +
    `  ${f.object}  ${f.path}\n` +
    `  ${f.message}\n` +
    `  why: ${f.why}\n` +
    `  fix: ${f.fix}\n`)
  const summary = findings.length === 0
    ? 'no zero-downtime problem found\n'
    : `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`
  return blocks.join('\n') + (blocks.length > 0 ? '\n' : '') + summary
}

export function formatJson (findings: readonly Finding[]): string {
  const errors = findings.filter((f) => f.severity === 'error').length
  return JSON.stringify({ findings, errors, warnings: findings.length - errors }, null, 2) + '\n'
}
