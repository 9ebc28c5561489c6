// A dataset held as two flat float64 arrays, one row per sample.

export interface Dataset {
  inputs: Float64Array; //  (N, IN)
  targets: Float64Array; // (N, OUT)
  size: number; // N
  inputSize: number; // IN
  outputSize: number; // OUT
}

export function datasetFromRows(inputs: readonly (readonly number[])[], targets: readonly (readonly number[])[]): Dataset {
  if (inputs.length !== targets.length) throw new Error(`${inputs.length} input rows but ${targets.length} target rows`);
  if (inputs.length === 0) throw new Error('a dataset needs at least one sample');
  const inputSize = inputs[0].length;
  const outputSize = targets[0].length;
  return {
    inputs: Float64Array.from(inputs.flat()),
    targets: Float64Array.from(targets.flat()),
    size: inputs.length,
    inputSize,
    outputSize,
  };
}

/** Copies the rows `indices` of the dataset into a batch: input (B, IN), target (B, OUT). */
export function gatherBatch(dataset: Dataset, indices: ArrayLike<number>): { input: Float64Array; target: Float64Array } {
  const B = indices.length;
  const input = new Float64Array(B * dataset.inputSize);
  const target = new Float64Array(B * dataset.outputSize);
  for (let b = 0; b < B; b++) {
    const row = indices[b];
    input.set(dataset.inputs.subarray(row * dataset.inputSize, (row + 1) * dataset.inputSize), b * dataset.inputSize);
    target.set(dataset.targets.subarray(row * dataset.outputSize, (row + 1) * dataset.outputSize), b * dataset.outputSize);
  }
  return { input, target };
}

export function splitRows(flat: ArrayLike<number>, width: number): number[][] {
  const rows: number[][] = [];
  for (let r = 0; r * width < flat.length; r++) rows.push(Array.from({ length: width }, (_, k) => flat[r * width + k]));
  return rows;
}
