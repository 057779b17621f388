import type { TorchDType } from './torch-dtype.js';

/**
 * A tensor in a checkpoint, not yet read: where its elements are and how they are laid out. Element
 * [i_0, ..., i_{n−1}] is storage element `offset + Σ_d i_d · stride_d` (PyTorch's strided layout). The same object
 * describes tensors of zip-format and legacy-format files.
 */
export class TorchTensorRef {
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

  /** Number of elements, Π shape (1 for a 0-d tensor). */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}
