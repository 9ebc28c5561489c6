// The element-wise work of a step, shared among the pool's threads as its products are
// (pool.ts): a layer's biases added and its activation applied (forwardLayer in
// src/reference/backprop.ts), its δ times the activation's slope (hiddenDeltas), and the
// optimizer's update of a block of parameters (optimizerStep). Each thread takes a range
// of rows or of elements; one thread takes all of a small one. Only ops with a body here
// are shared: the host's ops run on the posting thread (step.ts).

import { activate_rows, derivative_rows, dropped_derivative_rows, optimizer_update } from './switch';

/** net += b on each row, then out = f(net): split by rows. */
export const ACTIVATE = 0;
/** δ ·= f′(net, out): split by elements. */
export const DERIVATIVE = 1;
/** δ ·= mask · f′(net, f(net)), for a layer that dropped: split by elements. */
export const DROPPED_DERIVATIVE = 2;
/** The optimizer's update of a block of parameters and their state: split by elements. */
export const UPDATE = 3;

/** Below this many elements, one thread does it all: sharing would cost more than it saves. */
export const SHARED_ELEMENTS = 1 << 15;
/** A thread's range of elements starts a multiple of this from the buffer's start (64 bytes, a cache line): threads seldom write one line. */
const ELEMENT_ALIGN = 16;

/** One piece of element-wise work: its kind, its op, its extent and its buffers (those its kind reads). */
@unmanaged
export class Elementwise {
  kind: i32;
  /** The activation's or the optimizer's code. */
  code: i32;
  /** Rows (ACTIVATE) or elements (the others). */
  count: i32;
  /** Floats a row (ACTIVATE). */
  width: i32;
  /** The activation's parameter. */
  parameter: f32;
  /** Clipping's factor of the gradient (UPDATE). */
  scale: f32;
  net: usize; //       (count, width) or (count)
  out: usize; //       (count, width) or (count)
  biases: usize; //    (width)
  delta: usize; //     (count)
  mask: usize; //      (count)
  params: usize; //    (count)
  grads: usize; //     (count)
  state0: usize; //    (count)
  state1: usize; //    (count)
  constants: usize; // the optimizer's constants
  rates: usize; //     the step's Rates
}

/** net += b on `rows` rows of `width` floats. */
export function addBiases(net: usize, biases: usize, rows: i32, width: i32): void {
  for (let b = 0; b < rows; b++) {
    const row = net + (<usize>b * width << 2);
    for (let j = 0; j < width; j++) store<f32>(row + (<usize>j << 2), load<f32>(row + (<usize>j << 2)) + load<f32>(biases + (<usize>j << 2)));
  }
}

/** net += b on `rows` rows of `width` floats, then out = f(net) (the activation has a body: has_activation). */
export function activateRows(code: i32, net: usize, out: usize, biases: usize, rows: i32, width: i32, parameter: f32): void {
  addBiases(net, biases, rows, width);
  activate_rows(code, net, out, rows * width, parameter);
}

/** Share `part` of `parts` of the work. */
export function elementwisePart(work: Elementwise, part: i32, parts: i32): void {
  if (work.kind == ACTIVATE) {
    const r0 = <i32>((<i64>work.count * part) / parts);
    const r1 = <i32>((<i64>work.count * (part + 1)) / parts);
    const at = <usize>r0 * work.width << 2;
    activateRows(work.code, work.net + at, work.out + at, work.biases, r1 - r0, work.width, work.parameter);
    return;
  }
  const e0 = min(work.count, <i32>((<i64>work.count * part) / parts) & ~(ELEMENT_ALIGN - 1));
  const e1 = part == parts - 1 ? work.count : min(work.count, <i32>((<i64>work.count * (part + 1)) / parts) & ~(ELEMENT_ALIGN - 1));
  const count = e1 - e0;
  const at = <usize>e0 << 2;
  if (work.kind == DERIVATIVE) derivative_rows(work.code, work.net + at, work.out + at, work.delta + at, count, work.parameter);
  else if (work.kind == DROPPED_DERIVATIVE) dropped_derivative_rows(work.code, work.net + at, work.mask + at, work.delta + at, count, work.parameter);
  else optimizer_update(work.code, work.params + at, work.grads + at, work.state0 + at, work.state1 + at, count, work.constants, work.rates, work.scale);
}
