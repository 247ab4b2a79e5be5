/**
 * Check output is served on unauthenticated probe endpoints and written to
 * logs, and driver errors like to quote the connection string they were given
 * (`getaddrinfo ENOTFOUND ... postgres://app:s3cret@db/app`), so every message
 * goes through here before it leaves the runner.
 */
const URL_WITH_SCHEME = /\b([a-z][a-z0-9+.-]*):\/\/[^\s'"<>()]+/gi
const SECRET_ASSIGNMENT = /\b(password|passwd|pwd|pass|secret|token|api[_-]?key|access[_-]?key)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&]+)/gi
const MAX_OUTPUT = 300

export function scrub (text: string): string {
  const clean = text
    .replace(URL_WITH_SCHEME, '$1://[redacted]')
    .replace(SECRET_ASSIGNMENT, '$1$2[redacted]')
  return clean.length > MAX_OUTPUT ? `${clean.slice(0, MAX_OUTPUT - 1)}…` : clean
}

/** A one-line, scrubbed description of whatever a check threw. */
export function describeError (err: unknown): string {
  if (err instanceof Error) {
    // Node's happy-eyeballs connect errors are AggregateErrors with an empty message.
    const inner = err instanceof AggregateError ? err.errors.map((e) => describeError(e)).join('; ') : ''
    const code = (err as { code?: unknown }).code
    const text = err.message !== '' ? err.message : inner !== '' ? inner : typeof code === 'string' ? code : err.name
    return scrub(text)
  }
  if (typeof err === 'string' && err !== '') return scrub(err)
  return `check threw a non-Error value (${err === null ? 'null' : typeof err})`
}
