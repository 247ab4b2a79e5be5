export { listen, type ListenOptions, type ListenHandle } from './listen.js'
export { ownProcess, processOwnerOf, type ProcessOwner } from './owner.js'
export { warnShortCloseGraceDelay } from './fastify-cli.js'
