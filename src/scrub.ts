/**
 * The one scrubber for everything the plugin lets out of the process: check
 * outputs (served on unauthenticated probe endpoints), the runner's logs, the
 * drain's timeline and its `stopped` report (cleanup errors, cut request
 * URLs). Driver errors like to quote what they were given
 * (`getaddrinfo ENOTFOUND ... postgres://app:s3cret@db/app`), and a check may
 * throw anything at all, so every text goes through `scrub`, every thrown
 * value through `describeError`.
 *
 * Cost: only the first MAX_INPUT characters are looked at, and every rule is
 * linear in them: each pattern can only fail after a bounded number of steps
 * from where it started (bounded quantifiers, starts restricted to token
 * boundaries), and unbounded parts sit where the match can no longer fail.
 * A 100 KB error costs what a 2 KB one does; the probe never waits on it.
 */
import { types } from 'node:util'

/** Longest output kept, in probe bodies and logs. */
export const MAX_OUTPUT = 300
/** How much of a text is scrubbed at all; the rest could not reach the output anyway. */
export const MAX_INPUT = 2048

const REDACTED = '[redacted]'

/** Words that make a `key=value` or `"key": "value"` pair secret, anywhere in the key (`DB_PASSWORD`, `x-api-key`). */
const SECRET_KEY = 'password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|account[_-]?key|private[_-]?key|credential|signature|auth|session|cookie'
/**
 * Short words that make a key secret only as its last part (`pass`,
 * `DB_PASS`, `redis.pw`, `--pass`, `dbPass`, a SAS token's `sig`): anywhere
 * in a key they would also catch `bypass`, `compass`, `passes` or `signal`.
 */
const SHORT_SECRET_KEY = '(?:[\\w.-]{0,64}[_.-])?(?:[Pp][Aa][Ss][Ss]|[Pp][Ww]|[Ss][Ii][Gg])|[\\w.-]{0,63}[a-z0-9](?:Pass|PASS|Pw|PW|Sig|SIG)'
/** What follows a secret key: `=`, `:`, `": "`, a hash's `=>` (Ruby, PHP, Perl), and the same inside a JSON string written in JSON (`\":\"`). */
const SEPARATOR = '\\\\?["\']?\\s{0,4}(?:=>|[=:])\\s{0,4}'
/**
 * A value: a JSON string escaped inside another one (`\"...\"`), a quoted
 * string (escapes kept inside), a whole array or object (`["a", "b"]`,
 * `{"value": "..."}`, up to its first closing bracket), or a bare word up to
 * a separator. Each alternative can only end, never fail, once started: no
 * backtracking.
 */
const VALUE = '\\\\"(?:[^"\\\\]|\\\\[^"])*(?:\\\\")?|"(?:[^"\\\\]|\\\\.)*"?|\'(?:[^\'\\\\]|\\\\.)*\'?|\\[[^\\]]{0,2048}\\]?|\\{[^}]{0,2048}\\}?|[^\\s,;&\'"]+'
/** A command-line flag whose value is a secret: it names one (`--password`, `--api-key`) or ends in pass/pw (`-storepass`, `-pw`). */
const SECRET_FLAG = `--?(?:[\\w.-]{0,40}(?:${SECRET_KEY})[\\w.-]{0,20}|[\\w.-]{0,40}(?:pass|pw))`

/** A secret flag (`-pw`, `-pass`) already handled by the rule for flags, not a mysql `-p<password>`. */
const WHOLE_SECRET_FLAG = new RegExp(`^(?:${SECRET_FLAG})$`, 'i')

/** Tokens recognised by their own shape: cloud access keys and the prefixed tokens of the usual services. */
const TOKENS = [
  // AWS access key IDs (long-term AKIA, temporary ASIA).
  '(?:AKIA|ASIA)[A-Z0-9]{16}',
  // GitHub (ghp_, gho_, ghu_, ghs_, ghr_, fine-grained github_pat_), GitLab, npm, Slack, Stripe, Google API keys.
  'gh[pousr]_[A-Za-z0-9]{36,251}', 'github_pat_\\w{22,255}', 'glpat-[\\w-]{20,64}', 'npm_[A-Za-z0-9]{36}',
  'xox[abposr]-[\\w-]{10,255}', '[rs]k_(?:live|test)_[A-Za-z0-9]{10,255}', 'AIza[\\w-]{35}',
  // OpenAI and Anthropic API keys (sk-..., sk-proj-..., sk-ant-api03-...): long enough that no word starting "sk-" is one.
  'sk-[\\w-]{32,255}'
].join('|')

type Replacement = string | ((match: string, ...groups: string[]) => string)

/** [shape, pattern, replacement], applied in order. */
const RULES: ReadonlyArray<readonly [string, RegExp, Replacement]> = [
  // A PEM private key (RSA, EC, OPENSSH, ENCRYPTED, PGP ... PRIVATE KEY), up to its END line or, cut short, to the end of the text.
  ['private key', /-----BEGIN ([A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?)-----[\s\S]*?(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/g, `-----BEGIN $1----- ${REDACTED}`],
  // postgres://app:s3cret@db/app (its URL-encoded forms were decoded first): the whole URL goes, host included;
  // the scheme stays to tell which dependency it was.
  ['URL', /\b([a-z][a-z0-9+.-]{0,31}):\/\/[^\s'"<>()[\]{}`]*/gi, `$1://${REDACTED}`],
  // Authorization: <scheme> <credentials>, Cookie: a=b; c=d (up to the end of the line).
  ['header', /(?<![\w-])((?:proxy-)?authorization|cookie|set-cookie|x-api-key|x-auth-token)(\s{0,4}:\s{0,4})[^\r\n"']+/gi, `$1$2${REDACTED}`],
  // Bearer / Basic credentials wherever they appear.
  ['auth scheme', /\b(bearer|basic)(\s{1,4})[^\s,;'"]+/gi, `$1$2${REDACTED}`],
  // JSON Web Tokens on their own (eyJ... . ... . ...).
  ['JWT', /(?<![\w-])eyJ[\w-]+\.[\w-]+\.[\w-]*/g, REDACTED],
  ['token', new RegExp(`(?<![\\w-])(?:${TOKENS})(?![\\w-])`, 'g'), REDACTED],
  // Short password flags of one tool each, after their tool's name (a failed execFile says "Command failed: redis-cli -a ..."):
  // redis-cli -a, sshpass -p, mongosh -p. Elsewhere -a and -p are other things (redis-cli -p is its port).
  ['tool password flag', /\b(redis-cli\s(?:[^\s|;&]{1,256}\s){0,8}?-a|(?:sshpass|mongosh|mongo)\s(?:[^\s|;&]{1,256}\s){0,8}?-p)(\s{1,4})(?![-\s])[^\s'"]+/g, `$1$2${REDACTED}`],
  // curl -u user:s3cret, --user, --proxy-user, -U: the user stays, the password goes.
  ['user flag', /(?<![\w-])(-[uU]|--(?:proxy-)?user)(\s{1,4}|=)([^\s:'"]{0,64}):[^\s'"]+/g, `$1$2$3:${REDACTED}`],
  // <password>s3cret</password>, <ns:secret attr="x">...</ns:secret>: the element's text goes (not the "<password>" of a usage line).
  ['secret element', new RegExp(`(<[\\w:.-]{0,64}(?:${SECRET_KEY})[\\w.-]{0,32}(?:\\s[^<>]{0,256})?>)[^<]{1,2048}(</)`, 'gi'), `$1${REDACTED}$2`],
  // --password s3cret, -storepass s3cret, --api-key "s3cret": the value after a secret flag (never another flag).
  ['secret flag', new RegExp(`(?<![\\w-])(${SECRET_FLAG})(\\s{1,4})(?![-\\s])(${VALUE})`, 'gi'), `$1$2${REDACTED}`],
  // DB_PASSWORD=..., password: ..., "password":"...", ?api_key=...&: the value goes, the key stays.
  ['secret pair', new RegExp(`(?<![\\w.-])([\\w.-]{0,64}(?:${SECRET_KEY})[\\w.-]{0,32})(${SEPARATOR})(${VALUE})`, 'gi'), `$1$2${REDACTED}`],
  // pass=..., DB_PASS: ..., "pw":"...", ?pass=...&.
  ['short secret pair', new RegExp(`(?<![\\w.-])(${SHORT_SECRET_KEY})(${SEPARATOR})(${VALUE})`, 'g'), `$1$2${REDACTED}`],
  // password "s3cret" rejected, token 'abc': a quoted value right after a secret word, with no = or : between.
  ['secret quoted', new RegExp(`(?<![\\w.-])([\\w.-]{0,64}(?:${SECRET_KEY})[\\w.-]{0,32})(\\s{1,4})("(?:[^"\\\\]|\\\\.)*"?|'(?:[^'\\\\]|\\\\.)*'?)`, 'gi'), `$1$2${REDACTED}`],
  // app:s3cret@db:5432 without a scheme: the credentials go, the host stays (the message named it already).
  ['userinfo', /(?<![^\s'"<>()[\]{},;=/@])[^\s'"<>()[\]{},;=/@:]{1,64}:[^\s'"<>@]{0,256}@/g, `${REDACTED}@`],
  // mysql -ps3cret: the password attached to -p. Digits only is psql's or redis-cli's port (-p5432), and stays;
  // "-p s3cret" (a space) is not a password to mysql (it prompts and reads s3cret as the database), nor to the others.
  ['mysql -p', /(?<![\w-])-p([^\s'"-][^\s'"]*)/g, (match, value) => /^\d+$/.test(value as string) || WHOLE_SECRET_FLAG.test(match) ? match : `-p${REDACTED}`]
]

/** Control characters (newlines included): outputs are one line. */
const CONTROL = /[\u0000-\u001f\u007f]+/g // eslint-disable-line no-control-regex

/**
 * Percent-encoded punctuation (%3D for `=`, %40 for `@`, %253A for a twice
 * encoded `:`...), decoded before the rules so that an encoded secret
 * (`?next=%2Flogin%3Fpassword%3Ds3cret`) meets the same rules as a plain one:
 * every rule would otherwise need its own encoded twin.
 */
const ENCODED = /%(?:25){0,8}(2[02367cf]|3[abdf]|40)/gi

/** The bounded prefix of `text` that is scrubbed, cut at a word boundary when one is near, so no secret is cut in half. */
function prefix (text: string): string {
  if (text.length <= MAX_INPUT) return text
  const head = text.slice(0, MAX_INPUT)
  for (let i = head.length - 1; i >= MAX_INPUT / 2; i--) {
    if (/\s/.test(head.charAt(i))) return head.slice(0, i)
  }
  return head
}

/** Redacts credentials, connection strings and tokens; one line of at most MAX_OUTPUT characters. */
export function scrub (text: string): string {
  let clean = prefix(text).replace(ENCODED, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
  for (const [, pattern, replacement] of RULES) clean = clean.replace(pattern, replacement as string)
  clean = clean.replace(CONTROL, ' ')
  if (clean.length > MAX_OUTPUT || (text.length > MAX_INPUT && clean.length === MAX_OUTPUT)) return `${clean.slice(0, MAX_OUTPUT - 1)}…`
  return text.length > MAX_INPUT ? `${clean}…` : clean
}

/** Errors nested this deep (causes, aggregated errors) are not described. */
const MAX_DEPTH = 3
/** Aggregated errors listed at most. */
const MAX_AGGREGATED = 5

const THREW = Symbol('threw')

/** A property read that cannot throw (getters may). Never called on a Proxy. */
function read (target: object, key: string): unknown {
  try {
    return (target as Record<string, unknown>)[key]
  } catch {
    return THREW
  }
}

function isError (value: object): boolean {
  try {
    return value instanceof Error
  } catch {
    // A Proxy somewhere up the prototype chain.
    return false
  }
}

function primitive (value: unknown): string | undefined {
  switch (typeof value) {
    case 'number': case 'boolean': return `${typeof value} ${String(value)}`
    case 'bigint': return `bigint ${String(value)}n`
    case 'symbol': return `symbol ${(value.description ?? '').slice(0, MAX_INPUT)}`
    case 'function': return 'a function'
    case 'undefined': return 'undefined'
    default: return value === null ? 'null' : undefined
  }
}

/** Unscrubbed, each piece bounded; '' for what is not worth naming (a cycle, too deep). */
function describeThrown (value: unknown, depth: number, seen: Set<object>): string {
  if (typeof value === 'string') return value === '' ? 'threw a non-Error value (an empty string)' : value.slice(0, MAX_INPUT)
  if (typeof value !== 'object' || value === null) return `threw a non-Error value (${primitive(value) as string})`
  // Any access to a Proxy runs its traps, which may throw or lie: name it and leave it alone.
  if (types.isProxy(value)) return 'threw a Proxy (not inspected)'
  if (seen.has(value) || depth > MAX_DEPTH) return ''
  seen.add(value)
  const error = isError(value)
  const rawName = read(value, 'name')
  const name = typeof rawName === 'string' && rawName !== '' ? rawName.slice(0, 100) : error ? 'Error' : 'object'
  const rawMessage = read(value, 'message')
  let message = ''
  if (typeof rawMessage === 'string') message = rawMessage.slice(0, MAX_INPUT)
  else if (rawMessage === THREW) message = `${name} whose message could not be read`
  else if (rawMessage !== undefined) message = `${name} with a non-string message (${primitive(rawMessage) ?? 'an object'})`

  // Node's happy-eyeballs connect errors are AggregateErrors with an empty message.
  const errors = read(value, 'errors')
  let inner = ''
  if (typeof errors === 'object' && errors !== null && !types.isProxy(errors) && Array.isArray(errors)) {
    inner = errors.slice(0, MAX_AGGREGATED).map((e: unknown) => describeThrown(e, depth + 1, seen)).filter((e) => e !== '').join('; ')
  }
  const cause = read(value, 'cause')
  const causeText = cause === undefined || cause === THREW ? '' : describeThrown(cause, depth + 1, seen)
  const code = read(value, 'code')

  let text = message !== '' && inner !== '' ? `${message}: ${inner}` : message !== '' ? message : inner
  if (text === '') text = typeof code === 'string' && code !== '' ? code.slice(0, 100) : name
  if (causeText !== '') text = `${text}; cause: ${causeText}`
  return error || (typeof rawMessage === 'string' && rawMessage !== '') ? text : `threw a non-Error value (${text === name ? 'an object' : text})`
}

/** A one-line, scrubbed description of whatever was thrown; never throws, bounded work whatever the value. */
export function describeError (err: unknown): string {
  try {
    return scrub(describeThrown(err, 0, new Set()))
  } catch {
    // Nothing above should throw; if some exotic value still manages to, it
    // must not turn a failed check into an unhandled rejection.
    return 'threw a value that could not be described'
  }
}

/** Stack frames kept in a logged error: enough to find the throw, bounded whatever the value. */
const MAX_STACK_LINES = 20

/**
 * The `error` of a log line about an app's own error (an uncaught exception, a
 * throwing event listener): what pino's serializer would print, scrubbed like
 * everything else (an uncaught driver error quotes its connection string as
 * readily as a check's does), the stack kept line by line. Never throws.
 */
export function loggableError (err: unknown): { type: string, message: string, stack?: string } {
  const message = describeError(err)
  try {
    if (!types.isNativeError(err)) return { type: typeof err, message }
    const type = scrub(String(err.name))
    return typeof err.stack === 'string'
      ? { type, message, stack: err.stack.split('\n', MAX_STACK_LINES).map(scrub).join('\n') }
      : { type, message }
  } catch {
    return { type: 'unknown', message }
  }
}
