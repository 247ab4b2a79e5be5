import { isNode, LineCounter, parseAllDocuments } from 'yaml'
import { isRecord, records } from './object.js'
import type { FieldPath, SourcedObject } from './types.js'

/** A file that cannot be read or parsed: reported as a usage error, not as a finding. */
export class LintInputError extends Error {
  override name = 'LintInputError'
}

/**
 * Parses multi-document YAML (a file, stdin, `kustomize build` output). Each
 * object remembers its file and can tell the line of any of its fields.
 */
export function parseManifests (text: string, file: string): SourcedObject[] {
  const lineCounter = new LineCounter()
  const out: SourcedObject[] = []
  for (const doc of parseAllDocuments(text, { lineCounter })) {
    const error = doc.errors[0]
    if (error !== undefined) {
      // Every YAML error has an offset; its message's first line says what is wrong (the rest quotes the source).
      const { line, col } = lineCounter.linePos(error.pos[0])
      throw new LintInputError(`${file}:${line}:${col}: invalid YAML: ${error.message.split('\n')[0] as string}`)
    }
    const value: unknown = doc.toJS()
    if (!isRecord(value)) continue
    // `kubectl get -o yaml` wraps objects in a List; no line numbers inside it.
    if (value.kind === 'List' && Array.isArray(value.items)) {
      for (const item of records(value.items)) out.push({ object: item, file })
      continue
    }
    const line = (path: FieldPath): number | undefined => {
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n), true)
        if (isNode(node) && node.range != null) return lineCounter.linePos(node.range[0]).line
      }
      /* c8 ignore next 2 -- the document root always has a range */
      return undefined
    }
    out.push({ object: value, file, line })
  }
  return out
}
