export { listen, type ListenOptions, type ListenHandle } from './listen.js'
