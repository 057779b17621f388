/**
 * Error thrown when a checkpoint (or a checkpoint directory, or an exported model) cannot be read or does not
 * fit what it is restored into. The message starts with the file and says what was expected and what was
 * found, e.g. `checkpoint runs/a/checkpoints/ckpt-00001000.sbmckpt: truncated: expected 1234 bytes, got 1000`.
 *
 * @example
 * ```ts
 * try { await readCheckpoint(path) } catch (e) { if (e instanceof CheckpointError) console.error(e.path, e.reason) }
 * ```
 */
export class CheckpointError extends Error {
  /** The file (or directory) concerned. */
  readonly path: string;
  /** What is wrong, without the path (the message is `checkpoint <path>: <reason>`). */
  readonly reason: string;

  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super(`checkpoint ${path}: ${reason}`, options);
    this.name = 'CheckpointError';
    this.path = path;
    this.reason = reason;
  }
}
