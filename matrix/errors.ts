/**
 * Errors the matrix reports as a message and an exit code instead of a stack:
 * bad flags (2), and a folder or build that is not what it needs (1).
 */
export class MatrixError extends Error {
  readonly exitCode: number = 1
}

export class UsageError extends MatrixError {
  override readonly exitCode = 2
}
