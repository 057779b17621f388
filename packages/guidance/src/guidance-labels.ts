import { describeValue, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link checkClassLabels}. */
export interface ClassLabelCheck {
  /** Number of classes $K$: labels must lie in $\lbrace 0, \dots, K - 1 \rbrace$; default no upper bound. */
  numClasses?: number;
  /** A label that is not a condition (the null class of classifier-free guidance); refused if given. */
  nullLabel?: number;
  /** Argument name used in errors, default `'labels'`. */
  argument?: string;
}

/**
 * Checks class labels `labels [B]` for a batch of `batch` samples: an int32 or float32 tensor of rank 1
 * holding integers in $\lbrace 0, \dots, K - 1 \rbrace$, $K$ = `numClasses` (when it is given), none equal to `nullLabel`.
 * Reads the labels once (`dataSync`, `B` numbers).
 *
 * @throws SbmArgumentError naming the argument when labels are missing, of the wrong shape or batch,
 * not integers, out of range, or the null label.
 */
export function checkClassLabels(
  labels: tf.Tensor | undefined,
  batch: number,
  check: ClassLabelCheck = {},
): asserts labels is tf.Tensor {
  const argument = check.argument ?? 'labels';
  if (labels === undefined) {
    throw new SbmArgumentError(argument, `expected class labels [${batch}] (the samplers' options.labels)`);
  }
  if (!(labels instanceof tf.Tensor) || labels.rank !== 1 || labels.shape[0] !== batch) {
    throw new SbmArgumentError(
      argument,
      `expected class labels of shape [${batch}] (one per sample), got ${describeValue(labels)}`,
    );
  }
  if (labels.dtype !== 'int32' && labels.dtype !== 'float32') {
    throw new SbmArgumentError(argument, `expected an int32 or float32 tensor, got dtype ${labels.dtype}`);
  }
  const { numClasses, nullLabel } = check;
  const values = labels.dataSync();
  for (let i = 0; i < values.length; i++) {
    const y = values[i]!;
    if (!Number.isInteger(y) || y < 0) {
      throw new SbmArgumentError(
        argument,
        `expected class ids (integers >= 0), got ${describeValue(y)} at index ${i}`,
      );
    }
    if (numClasses !== undefined && y >= numClasses) {
      throw new SbmArgumentError(
        argument,
        `expected class ids in [0, ${numClasses}), got ${y} at index ${i}`,
      );
    }
    if (y === nullLabel) {
      throw new SbmArgumentError(
        argument,
        `label ${y} at index ${i} is the null (unconditional) label, not a condition`,
      );
    }
  }
}
