import type { TorchDType } from './torch-dtype.js';

/**
 * A tensor in a checkpoint, not yet read: where its elements are and how they are laid out (the arguments of
 * `torch._utils._rebuild_tensor_v2` in the pickle). In PyTorch's strided layout, element $[i_0, \dots, i_{n-1}]$ is
 * storage element
 *
 * $$\mathrm{offset} + \sum_{d=0}^{n-1} i_d \, \mathrm{stride}_d.$$
 *
 * The same object describes tensors of zip-format and legacy-format files; read the values with
 * {@link TorchCheckpoint.read}.
 */
export class TorchTensorRef {
  /**
   * Describes one tensor by its `dtype`, `storageEntry`, `offset`, `shape` and `stride`. Made by the unpickler when
   * {@link TorchCheckpoint.parse} reads a file; user code gets these from {@link TorchCheckpoint.root}.
   */
  constructor(
    /** Element type of the storage. */
    readonly dtype: TorchDType,
    /**
     * The storage holding the elements: the zip entry (e.g. `archive/data/12`) for zip-format files, the storage
     * key (e.g. `94358171727296`) for legacy-format files.
     */
    readonly storageEntry: string,
    /** Offset into the storage, in elements. */
    readonly offset: number,
    /** Size of each dimension (`[]` for a 0-d tensor). */
    readonly shape: number[],
    /** Strides in elements, one per dimension (any non-negative values: views may be transposed or overlap). */
    readonly stride: number[],
  ) {}

  /** Number of elements, $\prod_d \mathrm{shape}_d$ (1 for a 0-d tensor). */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}
