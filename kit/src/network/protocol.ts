/** What the replicas speak: `h1` (HTTP/1.1) or `h2` (h2c with prior knowledge, probes included). */
export type Protocol = 'h1' | 'h2'
