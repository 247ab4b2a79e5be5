/**
 * An in-process renderer for the subset of kustomize (v5 semantics) that
 * k8s/ uses, so that `lint <dir>` and the tests need no kustomize binary (none
 * is packaged for Debian or npm). Supported: resources (files and
 * directories), namespace, namePrefix / nameSuffix (with the name references
 * kustomize updates: serviceAccountName, scaleTargetRef, ConfigMap and Secret
 * references), labels / commonLabels, commonAnnotations, images, and
 * strategic-merge patches (lists of named items merge by name). Anything else
 * is refused with a message naming the field: pipe `kustomize build dir |
 * fastify-zero-downtime lint -` for full kustomize.
 */
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'yaml'
import { LintInputError, parseManifests } from './parse.js'
import { asString, get, isRecord, records, stringMap } from './object.js'
import type { KubeObject, SourcedObject } from './types.js'

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
const SUPPORTED = new Set(['apiVersion', 'kind', 'metadata', 'resources', 'bases', 'namespace', 'namePrefix', 'nameSuffix', 'labels', 'commonLabels', 'commonAnnotations', 'images', 'patches', 'patchesStrategicMerge'])
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume', 'StorageClass', 'PriorityClass', 'IngressClass', 'GatewayClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'])
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'])

/** The kustomization file of a directory, if it has one. */
export async function findKustomization (dir: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILES) {
    const file = join(dir, name)
    if ((await stat(file).catch(() => undefined))?.isFile() === true) return file
  }
  return undefined
}

function fail (file: string, message: string): never {
  throw new LintInputError(`${file}: ${message}`)
}

function clone<T> (value: T): T {
  return structuredClone(value)
}

/**
 * Strategic merge as kustomize applies it to the fields our manifests patch:
 * maps merge, `null` deletes a key, lists of objects that all carry `name`
 * merge item by item (`$patch: delete` removes one), other lists are replaced.
 */
export function strategicMerge (target: unknown, patch: unknown): unknown {
  if (isRecord(target) && isRecord(patch)) {
    const out: KubeObject = { ...target }
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete out[key]
      else out[key] = strategicMerge(out[key], value)
    }
    return out
  }
  const named = (list: unknown): list is KubeObject[] =>
    Array.isArray(list) && list.length > 0 && list.every((item) => isRecord(item) && typeof item.name === 'string')
  if (named(target) && named(patch)) {
    const out = [...target]
    for (const item of patch) {
      const at = out.findIndex((existing) => existing.name === item.name)
      const remove = item.$patch === 'delete'
      if (at === -1) { if (!remove) out.push(item) } else if (remove) out.splice(at, 1)
      else out[at] = strategicMerge(out[at], item) as KubeObject
    }
    return out
  }
  return clone(patch)
}

function kind (o: KubeObject): string { return asString(o.kind) ?? '' }
function name (o: KubeObject): string { return asString(get(o, ['metadata', 'name'])) ?? '' }

function metadata (o: KubeObject): KubeObject {
  if (!isRecord(o.metadata)) o.metadata = {}
  return o.metadata as KubeObject
}

function addTo (parent: unknown, key: string, pairs: Record<string, string>, create: boolean): void {
  if (!isRecord(parent)) return
  if (!isRecord(parent[key])) {
    if (!create) return
    parent[key] = {}
  }
  Object.assign(parent[key] as KubeObject, pairs)
}

/** kustomize's label transformer, on the fields it knows for the kinds we ship. */
function applyLabels (o: KubeObject, pairs: Record<string, string>, selectors: boolean, templates: boolean): void {
  addTo(o, 'metadata', {}, true)
  addTo(o.metadata, 'labels', pairs, true)
  const k = kind(o)
  if (selectors && k === 'Service') addTo(o.spec, 'selector', pairs, true)
  if (selectors && k === 'PodDisruptionBudget' && isRecord(get(o, ['spec', 'selector']))) addTo(get(o, ['spec', 'selector']), 'matchLabels', pairs, true)
  if (!WORKLOADS.has(k) || !isRecord(o.spec)) return
  if (selectors && k !== 'Job') {
    addTo(o.spec, 'selector', {}, true)
    addTo(get(o, ['spec', 'selector']), 'matchLabels', pairs, true)
  }
  if (selectors || templates) {
    addTo(o.spec, 'template', {}, true)
    addTo(get(o, ['spec', 'template']), 'metadata', {}, true)
    addTo(get(o, ['spec', 'template', 'metadata']), 'labels', pairs, true)
  }
  if (selectors) {
    for (const c of records(get(o, ['spec', 'template', 'spec', 'topologySpreadConstraints']))) addTo(c.labelSelector, 'matchLabels', pairs, false)
  }
}

function podSpecs (o: KubeObject): KubeObject[] {
  const spec = WORKLOADS.has(kind(o)) ? get(o, ['spec', 'template', 'spec']) : undefined
  return isRecord(spec) ? [spec] : []
}

function containersOf (o: KubeObject): KubeObject[] {
  return podSpecs(o).flatMap((s) => [...records(s.initContainers), ...records(s.containers)])
}

/** `registry:5000/app:1.0@sha256:…` → name, tag and digest, as kustomize's image transformer splits them. */
function splitImage (image: string): { base: string, tag?: string, digest?: string } {
  const at = image.indexOf('@')
  const named = at === -1 ? image : image.slice(0, at)
  const colon = named.lastIndexOf(':')
  const hasTag = colon > named.lastIndexOf('/')
  return {
    base: hasTag ? named.slice(0, colon) : named,
    ...(hasTag ? { tag: named.slice(colon + 1) } : {}),
    ...(at === -1 ? {} : { digest: image.slice(at + 1) })
  }
}

function applyImages (o: KubeObject, images: KubeObject[]): void {
  for (const c of containersOf(o)) {
    const image = asString(c.image)
    if (image === undefined) continue
    const { base, tag, digest } = splitImage(image)
    const entry = images.find((i) => i.name === base)
    if (entry === undefined) continue
    const newDigest = asString(entry.digest)
    const newTag = asString(entry.newTag)
    const name = asString(entry.newName) ?? base
    if (newDigest !== undefined) c.image = `${name}@${newDigest}`
    else if (newTag !== undefined) c.image = `${name}:${newTag}`
    else c.image = name + (tag === undefined ? '' : `:${tag}`) + (digest === undefined ? '' : `@${digest}`)
  }
}

/** Updates the references kustomize follows after renaming. */
function fixReferences (o: KubeObject, renamed: Map<string, string>): void {
  const lookup = (k: string, n: unknown): string | undefined => typeof n === 'string' ? renamed.get(`${k}/${n}`) : undefined
  const set = (parent: unknown, key: string, k: string): void => {
    if (!isRecord(parent)) return
    const next = lookup(k, parent[key])
    if (next !== undefined) parent[key] = next
  }
  if (kind(o) === 'HorizontalPodAutoscaler') {
    const ref = get(o, ['spec', 'scaleTargetRef'])
    set(ref, 'name', asString(get(ref, ['kind'])) ?? '')
  }
  for (const spec of podSpecs(o)) {
    set(spec, 'serviceAccountName', 'ServiceAccount')
    for (const v of records(spec.volumes)) { set(v.configMap, 'name', 'ConfigMap'); set(v.secret, 'secretName', 'Secret') }
  }
  for (const c of containersOf(o)) {
    for (const from of records(c.envFrom)) { set(from.configMapRef, 'name', 'ConfigMap'); set(from.secretRef, 'name', 'Secret') }
    for (const e of records(c.env)) { set(get(e, ['valueFrom', 'configMapKeyRef']), 'name', 'ConfigMap'); set(get(e, ['valueFrom', 'secretKeyRef']), 'name', 'Secret') }
  }
}

// A patch file that is missing or unreadable is the user's input, like a
// missing resource: a message naming it (exit 2), not a stack trace.
async function readPatchFile (dir: string, file: string, path: string): Promise<string> {
  return await readFile(join(dir, path), 'utf8').catch((error: NodeJS.ErrnoException) =>
    fail(file, `patch ${path} ${error.code === 'ENOENT' ? 'not found' : `cannot be read (${String(error.code)})`}`))
}

async function readPatch (dir: string, file: string, entry: unknown): Promise<{ patch: KubeObject, target?: KubeObject }> {
  if (typeof entry === 'string') entry = { path: entry }
  if (!isRecord(entry)) fail(file, 'each patch must be a path or an object with path or patch')
  const text = typeof entry.patch === 'string'
    ? entry.patch
    : typeof entry.path === 'string' ? await readPatchFile(dir, file, entry.path) : fail(file, 'a patch needs `path` or `patch`')
  const patch: unknown = parse(text)
  // JSON 6902 patches (lists of operations) are beyond this renderer.
  if (!isRecord(patch)) fail(file, 'only strategic-merge patches are supported here; render with `kustomize build` and pipe it to `lint -`')
  return isRecord(entry.target) ? { patch, target: entry.target } : { patch }
}

/**
 * Renders a kustomization directory into objects, each keeping the file it came
 * from and the directory that rendered it (`via`).
 */
export async function renderKustomization (dir: string, via: string = dir): Promise<SourcedObject[]> {
  const file = await findKustomization(dir) ?? fail(dir, 'no kustomization.yaml')
  const k: unknown = parse(await readFile(file, 'utf8'))
  if (!isRecord(k)) fail(file, 'not a kustomization')
  for (const key of Object.keys(k)) {
    if (!SUPPORTED.has(key)) fail(file, `kustomization field "${key}" is not supported by the built-in renderer; run \`kustomize build ${dir} | fastify-zero-downtime-kit lint -\``)
  }
  const objects: SourcedObject[] = []
  for (const entry of [...(Array.isArray(k.bases) ? k.bases : []), ...(Array.isArray(k.resources) ? k.resources : [])]) {
    if (typeof entry !== 'string' || /^[a-z]+:\/\//i.test(entry)) fail(file, `resource ${JSON.stringify(entry)} must be a local file or directory`)
    const path = join(dir, entry)
    const info = await stat(path).catch(() => undefined) ?? fail(file, `resource ${entry} not found`)
    if (info.isDirectory()) objects.push(...await renderKustomization(path, via))
    // Kept as parsed: line numbers of the original file would point at fields a transformer may have changed.
    else objects.push(...parseManifests(await readFile(path, 'utf8'), path).map((o) => ({ object: o.object, file: o.file, via })))
  }

  const patchEntries = [...(Array.isArray(k.patchesStrategicMerge) ? k.patchesStrategicMerge : []), ...(Array.isArray(k.patches) ? k.patches : [])]
  for (const entry of patchEntries) {
    const { patch, target } = await readPatch(dir, file, entry)
    const wantKind = asString(target?.kind) ?? kind(patch)
    const wantName = asString(target?.name) ?? (target === undefined ? name(patch) : undefined)
    let matched = false
    objects.forEach((o, i) => {
      if (kind(o.object) !== wantKind || (wantName !== undefined && name(o.object) !== wantName)) return
      const merged = strategicMerge(o.object, target === undefined ? patch : { ...patch, metadata: { ...(isRecord(patch.metadata) ? patch.metadata : {}), name: name(o.object) } })
      objects[i] = { ...o, object: merged as KubeObject }
      matched = true
    })
    if (!matched) fail(file, `patch for ${wantKind}/${wantName ?? '*'} matches no resource`)
  }

  const images = records(k.images)
  const labels = records(k.labels)
  const commonLabels = stringMap(k.commonLabels)
  const annotations = stringMap(k.commonAnnotations)
  const prefix = asString(k.namePrefix) ?? ''
  const suffix = asString(k.nameSuffix) ?? ''
  const namespace = asString(k.namespace)
  const renamed = new Map<string, string>()
  const out = objects.map((o) => {
    const obj = clone(o.object)
    applyImages(obj, images)
    for (const l of labels) applyLabels(obj, stringMap(l.pairs), l.includeSelectors === true, l.includeTemplates === true)
    if (Object.keys(commonLabels).length > 0) applyLabels(obj, commonLabels, true, true)
    if (Object.keys(annotations).length > 0) addTo(metadata(obj), 'annotations', annotations, true)
    if (prefix !== '' || suffix !== '') {
      const before = name(obj)
      metadata(obj).name = `${prefix}${before}${suffix}`
      renamed.set(`${kind(obj)}/${before}`, `${prefix}${before}${suffix}`)
    }
    if (namespace !== undefined && !CLUSTER_SCOPED.has(kind(obj))) metadata(obj).namespace = namespace
    return { ...o, object: obj }
  })
  for (const o of out) fixReferences(o.object, renamed)
  return out
}
