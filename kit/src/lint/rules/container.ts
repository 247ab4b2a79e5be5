import { eachContainer, type Rule } from '../context.js'
import { asString } from '../object.js'

const PACKAGE_MANAGER_START = /\b(npm|yarn|pnpm)\b(\s+\S+)*?\s+(start|run)\b/

export const npmStart: Rule = {
  meta: {
    id: 'npm-start',
    severity: 'error',
    why: 'npm (and yarn, pnpm) do not forward SIGTERM to the node process: the service never drains and is SIGKILLed at the end of the grace period, dropping every open request.',
    fix: 'Start node directly in exec form, e.g. command: ["node", "dist/server.js"], behind tini (see the Dockerfile).'
  },
  check (ctx, report) {
    eachContainer(ctx, (w, c) => {
      for (const field of ['command', 'args'] as const) {
        const value = c.container[field]
        const line = Array.isArray(value) ? value.map(String).join(' ') : ''
        if (PACKAGE_MANAGER_START.test(line)) report(w.source, [...c.path, field], `container ${c.name} starts with "${line}"`)
      }
    }, 'containers')
  }
}

export const mutableImageTag: Rule = {
  meta: {
    id: 'mutable-image-tag',
    severity: 'warning',
    why: '`kubectl rollout undo` re-applies the previous pod template; with a moving tag (latest, or none) it pulls the same new image and the rollback changes nothing.',
    fix: 'Use an immutable tag per release (a version or a commit) or a digest.'
  },
  check (ctx, report) {
    eachContainer(ctx, (w, c) => {
      const image = asString(c.container.image)
      if (image === undefined || image.includes('@')) return
      const lastSegment = image.slice(image.lastIndexOf('/') + 1)
      const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1) : undefined
      if (tag === undefined || tag === 'latest') report(w.source, [...c.path, 'image'], `image ${image} has ${tag === undefined ? 'no tag' : 'the latest tag'}`)
    }, 'containers')
  }
}
