import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { findKustomization, renderKustomization } from './kustomize.js'
import { LintInputError, parseManifests } from './parse.js'
import type { LintUnit, SourcedObject } from './types.js'

const YAML_FILE = /\.ya?ml$/i

async function loadDirectory (dir: string, units: LintUnit[]): Promise<void> {
  if (await findKustomization(dir) !== undefined) {
    units.push({ source: dir, objects: await renderKustomization(dir) })
    return
  }
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))
  const loose: SourcedObject[] = []
  const at = units.length
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) await loadDirectory(path, units)
    else if (entry.isFile() && YAML_FILE.test(entry.name)) loose.push(...parseManifests(await readFile(path, 'utf8'), path))
  }
  // Plain manifests side by side in one folder are applied together: lint them together.
  if (loose.length > 0) units.splice(at, 0, { source: dir, objects: loose })
}

/**
 * Reads what the user named: files, directories (a directory with a
 * kustomization is rendered; others are walked, each kustomization below them
 * being one unit) and `-` for stdin.
 */
export async function loadInputs (inputs: readonly string[], readStdin: () => Promise<string>): Promise<LintUnit[]> {
  const units: LintUnit[] = []
  for (const input of inputs) {
    if (input === '-') {
      units.push({ source: '-', objects: parseManifests(await readStdin(), '-') })
      continue
    }
    const info = await stat(input).catch(() => undefined)
    if (info === undefined) throw new LintInputError(`${input}: no such file or directory`)
    if (info.isDirectory()) {
      const found: LintUnit[] = []
      await loadDirectory(input, found)
      if (found.length === 0) throw new LintInputError(`${input}: no YAML file or kustomization found`)
      units.push(...found)
    } else {
      units.push({ source: input, objects: parseManifests(await readFile(input, 'utf8'), input) })
    }
  }
  return units
}
