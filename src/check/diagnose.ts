// Where a training run first produced a non-finite value: the step, then the buffer in
// the order the step computes them (inputs, each layer's net and out, the loss, the
// deltas from the top down, the gradients, the updated parameters, the optimizer's
// state), then the element. Non-finite means what it means on the GPU, in float32: NaN,
// ±Infinity, or (on the float64 reference) a value beyond float32's range.

import { float32Finite } from '../data/values.ts';
import { bufferNames, bufferShape, parseLayerBuffer, type BufferName } from '../model/buffers.ts';
import { describeParamIndex } from '../model/layout.ts';
import type { Trainer } from '../model/trainer.ts';

/** The first NaN or ±Infinity a training run produced: the step, the buffer, the element and its value. */
export interface NonFinite {
  /** The step that produced it, counted from 0. */
  step: number;
  /** A named buffer, a slot of the optimizer's state, or the batch's mean loss (which can overflow where every sample's loss is finite). */
  buffer: BufferName | `optimizerState[${number}]` | 'batch loss';
  /** The layer the buffer belongs to, where it belongs to one. */
  layer?: number;
  /** The element's index in the buffer. */
  index: number;
  /** The element in words: `layer1.net[sample 3, unit 7]`, `layer0.weights[2,1]`. */
  where: string;
  value: number;
}

function describe(trainer: Trainer, name: BufferName, index: number): string {
  if (name === 'params' || name === 'grads') return `${name}: ${describeParamIndex(trainer.layout, index)}`;
  const shape = bufferShape(trainer.spec, trainer.options.batchSize, trainer.layout.size, name);
  if (shape.length === 1) return `${name}[sample ${index}]`;
  const width = shape[1];
  return `${name}[sample ${Math.floor(index / width)}, ${name === 'input' ? 'input' : name === 'target' ? 'output' : 'unit'} ${index % width}]`;
}

/** The first value float32 does not hold as a finite number among the buffers of the step just run, if any. */
export async function firstNonFinite(trainer: Trainer): Promise<NonFinite | undefined> {
  const step = trainer.step - 1;
  for (const name of bufferNames(trainer.spec)) {
    const values = await trainer.read(name);
    const index = values.findIndex((v) => !float32Finite(v));
    if (index >= 0) {
      return { step, buffer: name, layer: parseLayerBuffer(name)?.layer, index, where: describe(trainer, name, index), value: values[index] };
    }
  }
  const { optimizerState } = await trainer.readState();
  for (const [slot, values] of optimizerState.entries()) {
    const index = values.findIndex((v) => !float32Finite(v));
    if (index >= 0) return { step, buffer: `optimizerState[${slot}]`, index, where: `optimizerState[${slot}]: ${describeParamIndex(trainer.layout, index)}`, value: values[index] };
  }
  return undefined;
}

/**
 * Runs the trainer one step at a time up to `until` (exclusive), from where it stands (a
 * rewind to the state before the steps that went wrong), and returns the first
 * non-finite value it meets. The trainer is left after the step that made it, writing
 * every named buffer.
 */
export async function locateNonFinite(trainer: Trainer, until: number): Promise<NonFinite | undefined> {
  await trainer.setCapture?.(true); // every buffer of every step replayed
  while (trainer.step < until) {
    await trainer.train(1);
    const found = await firstNonFinite(trainer);
    if (found) return found;
    const [loss] = await trainer.takeLosses();
    if (!float32Finite(loss)) {
      return { step: trainer.step - 1, buffer: 'batch loss', index: 0, where: 'the batch loss (the mean of finite sample losses)', value: loss };
    }
  }
  return undefined;
}
