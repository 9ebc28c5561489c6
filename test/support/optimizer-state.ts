// How far a float32 trainer's optimizer state may be from the float64 reference's: the
// state the named buffers leave out (momentum's velocity, Adam's m and v, RMSprop's v),
// bounded as src/check/tolerance.ts bounds the rest, from the reference's values alone.
//
// Each slot follows s_t = U(s_{t−1}, g_t), the record's update at one parameter: linear in
// the state and at most quadratic in the gradient, so central differences give its slopes
// exactly (to float64's rounding). g_t is the step's gradient times clipping's factor c,
// plus λ·w for L2 decay. An error Δs_{t−1} in the state and Δg_t in g_t (c times the
// trajectory's bound on the gradient, plus |g|·Δc, plus λ·Δw) move s_t by at most
//
//   Δs_t ≤ |∂U/∂s|·Δs_{t−1} + |∂U/∂g|·Δg_t + HEADROOM·u·M(s_t),
//
// M(s_t) = |∂U/∂s|·M(s_{t−1}) + |∂U/∂g|·|g_t| its size before cancellation, whose few
// roundings the last term covers. Δc/c is at most ‖Δg‖₂/(‖g‖ + 1e-6): the norm moves by
// no more than the gradient's errors together, and min(1, ·) no more than its argument.

import type { Comparison } from '../../src/check/compare.ts';
import { compareBuffers } from '../../src/check/compare.ts';
import { FLOAT32_UNIT_ROUNDOFF } from '../../src/check/tolerance.ts';
import { ReferenceTrajectory } from '../../src/check/crosscheck.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { describeParamIndex } from '../../src/model/layout.ts';
import type { Model } from '../../src/model/network.ts';
import { constantsOf, OPTIMIZER_OPS, weightDecayOf } from '../../src/model/ops/optimizers.ts';
import { learningRateAt } from '../../src/model/schedule.ts';
import type { TrainerState, TrainOptions } from '../../src/model/trainer.ts';
import { adamCorrections, clipScale } from '../../src/reference/optimizers.ts';

/** Roundings per step of a slot's update (its products, sums and the square of g). */
const HEADROOM = 8;

/** The reference's optimizer state after `steps` steps, and each slot's tolerance: (P) each. */
async function referenceState(model: Model, dataset: Dataset, options: TrainOptions, steps: number): Promise<{ state: Float64Array[]; tolerance: Float64Array[] }> {
  const { spec, layout } = model;
  const op = OPTIMIZER_OPS[options.optimizer.kind];
  const constants = constantsOf(options.optimizer);
  const l2 = op.decoupledDecay ? 0 : weightDecayOf(options.optimizer);
  const weightDecay = weightDecayOf(options.optimizer);
  const slots = op.stateSlots;
  const P = layout.size;
  const trajectory = new ReferenceTrajectory(model, dataset, options);
  const error = Array.from({ length: slots }, () => new Float64Array(P));
  const magnitude = Array.from({ length: slots }, () => new Float64Array(P));
  const trained = layout.entries.filter((entry) => entry.kind === 'weights' || spec.trainBiases);
  for (let t = 1; t <= steps; t++) {
    const before = await trajectory.reference.readState();
    const paramsTolerance = t === 1 ? new Float64Array(P) : Float64Array.from(trajectory.tolerance('params').atol as ArrayLike<number>);
    await trajectory.advanceTo(t);
    const grads = trajectory.buffer('grads');
    const gradsTolerance = trajectory.tolerance('grads').atol as ArrayLike<number>;
    let clip = { scale: 1, relative: 0 };
    if (options.clipNorm !== undefined) {
      let [squares, errorSquares] = [0, 0];
      for (const entry of trained) {
        for (let k = entry.offset; k < entry.offset + entry.length; k++) [squares, errorSquares] = [squares + grads[k] ** 2, errorSquares + gradsTolerance[k] ** 2];
      }
      clip = { scale: clipScale(layout, grads, spec.trainBiases, options.clipNorm), relative: Math.sqrt(errorSquares) / (Math.sqrt(squares) + 1e-6) };
    }
    const values = { learningRate: learningRateAt(options.learningRate, options.schedule, t - 1), weightDecay, ...adamCorrections(options.optimizer, t) };
    for (const entry of trained) {
      for (let k = entry.offset; k < entry.offset + entry.length; k++) {
        const param = before.params[k];
        const g = grads[k] * clip.scale + l2 * param;
        const gError = clip.scale * (gradsTolerance[k] + Math.abs(grads[k]) * clip.relative) + l2 * paramsTolerance[k];
        // The slots after one update from `state` with gradient `grad`.
        const updated = (state: number[], grad: number) => {
          const arrays = state.map((value) => Float64Array.of(value));
          op.update(param, grad, arrays, 0, constants, values);
          return arrays.map((array) => array[0]);
        };
        const state = before.optimizerState.map((slot) => slot[k]);
        const h = (x: number) => 2 ** -12 * (Math.abs(x) + 1e-30);
        const bySlot = state.map((s, j) => {
          const up = updated(state.map((v, i) => (i === j ? s + h(s) : v)), g);
          const down = updated(state.map((v, i) => (i === j ? s - h(s) : v)), g);
          return up.map((value, i) => (value - down[i]) / (2 * h(s)));
        });
        const byGrad = ((a, b) => a.map((value, i) => Math.abs(value - b[i]) / (2 * h(g))))(updated(state, g + h(g)), updated(state, g - h(g)));
        const nextError = byGrad.map((slope, i) => slope * gError + state.reduce((sum, _, j) => sum + Math.abs(bySlot[j][i]) * error[j][k], 0));
        const nextMagnitude = byGrad.map((slope, i) => slope * Math.abs(g) + state.reduce((sum, _, j) => sum + Math.abs(bySlot[j][i]) * magnitude[j][k], 0));
        for (let i = 0; i < slots; i++) {
          magnitude[i][k] = nextMagnitude[i];
          error[i][k] = nextError[i] + HEADROOM * FLOAT32_UNIT_ROUNDOFF * nextMagnitude[i];
        }
      }
    }
  }
  return { state: (await trajectory.reference.readState()).optimizerState, tolerance: error };
}

/** A float32 trainer's optimizer state after `steps` steps against the reference's, slot by slot. */
export async function compareOptimizerState(actual: TrainerState, model: Model, dataset: Dataset, options: TrainOptions, steps: number): Promise<Comparison[]> {
  const { state, tolerance } = await referenceState(model, dataset, options, steps);
  const describe = (k: number) => describeParamIndex(model.layout, k);
  return state.map((expected, slot) => compareBuffers(`optimizerState[${slot}]`, actual.optimizerState[slot] ?? [], expected, { atol: tolerance[slot], rtol: 0 }, describe));
}
