/**
 * Who may see probe detail. Detail (each check with its error text) maps the
 * pod's dependencies, and `?exclude` lets a caller drop a failing critical
 * check and read a 200: both are for operators, not for whoever can reach the
 * port through a Service or an ingress. Spring Boot Actuator shows health
 * detail only `when-authorized`; kube-apiserver's `/readyz?exclude=` sits
 * behind its authorization.
 */
import { isIP } from 'node:net'
import type { FastifyRequest } from 'fastify'

/** Decides per request whether the caller gets detail and may use `?exclude`. */
export type DetailPolicy = (request: FastifyRequest) => boolean

/** 127.0.0.0/8, ::1 and IPv4-mapped 127.x (a dual-stack listener reports those). */
export function isLoopbackAddress (address: string | undefined): boolean {
  if (address === undefined) return false
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  if (isIP(v4) === 4) return v4.startsWith('127.')
  return isIP(address) === 6 && (address === '::1' || address === '0:0:0:0:0:0:0:1')
}

/**
 * The default policy: the peer of the TCP connection is loopback
 * (`kubectl exec ... curl localhost`, `kubectl port-forward`). The socket's
 * address, not `request.ip`: with `trustProxy` that one comes from
 * `X-Forwarded-For`, which any client can write.
 */
export const fromLoopback: DetailPolicy = (request) => isLoopbackAddress(request.socket.remoteAddress)

/** Whether `request` gets detail; a policy that throws or answers anything but `true` means no. */
export function trusted (policy: DetailPolicy, request: FastifyRequest): boolean {
  try {
    return policy(request) === true
  } catch {
    return false
  }
}
