// What a dataset's targets ask of the output layer, told apart as scikit-learn's
// `type_of_target` tells them: one 0/1 column (binary), one-hot rows (one class of
// several), several 0/1 columns (several labels at once), or anything else (numbers to
// predict). Each kind has the output activation, loss and metrics Keras users pair with it.

import type { Activation, Loss } from '../model/model.ts';
import type { Metric } from './metrics.ts';

/** One 0/1 column; one-hot rows; several 0/1 columns at once; anything else (numbers to predict). */
export type TargetKind = 'binary' | 'one-hot' | 'multi-label' | 'continuous';

/** The output layer, loss and metrics that suit a kind of target. */
export interface OutputChoice {
  activation: Activation;
  loss: Loss;
  metrics: Metric[];
}

/** Which kind the targets (N, K), flat, are. */
export function targetKind(targets: ArrayLike<number>, width: number): TargetKind {
  let zeroOrOne = true;
  let oneHot = width > 1;
  for (let r = 0; r * width < targets.length; r++) {
    let ones = 0;
    for (let k = 0; k < width; k++) {
      const t = targets[r * width + k];
      if (t !== 0 && t !== 1) zeroOrOne = false;
      if (t === 1) ones++;
    }
    if (ones !== 1) oneHot = false;
  }
  if (!zeroOrOne) return 'continuous';
  if (width === 1) return 'binary';
  return oneHot ? 'one-hot' : 'multi-label';
}

/**
 * The output that suits a kind of target: sigmoid and binary cross-entropy for 0/1
 * columns, softmax and categorical cross-entropy for one-hot rows, a linear output and
 * mean squared error for numbers (with MAE and R² beside the loss; accuracy means nothing
 * there). Accuracy is reported for one-hot and binary targets only: for several labels at
 * once, the largest output says nothing.
 */
export function outputFor(kind: TargetKind): OutputChoice {
  switch (kind) {
    case 'binary':
      return { activation: 'sigmoid', loss: 'cross-entropy', metrics: ['accuracy'] };
    case 'one-hot':
      return { activation: 'softmax', loss: 'cross-entropy', metrics: ['accuracy'] };
    case 'multi-label':
      return { activation: 'sigmoid', loss: 'cross-entropy', metrics: [] };
    case 'continuous':
      return { activation: 'linear', loss: 'mse', metrics: ['mae', 'r2'] };
  }
}
