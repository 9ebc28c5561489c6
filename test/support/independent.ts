// An independent float64 trainer, written the way TensorFlow and PyTorch write it:
// whole-batch matrix products with weights stored in × out (tf.matmul(x, W)), explicit
// transposes, the gradient of the batch's mean loss, and the optimizers as
// torch.optim.SGD and torch.optim.Adam document their update. It shares no code with
// the reference, so agreement between the two checks both.

type Matrix = number[][];

const transpose = (m: Matrix): Matrix => m[0].map((_, c) => m.map((row) => row[c]));
const matmul = (a: Matrix, b: Matrix): Matrix => a.map((row) => b[0].map((_, c) => row.reduce((sum, v, k) => sum + v * b[k][c], 0)));
const columnSums = (m: Matrix): number[] => m[0].map((_, c) => m.reduce((sum, row) => sum + row[c], 0));
const map2 = (a: Matrix, b: Matrix, f: (x: number, y: number) => number): Matrix => a.map((row, r) => row.map((v, c) => f(v, b[r][c])));

export interface IndependentLayer {
  activation: string;
  weights: Matrix; // (OUT, IN) as in the model file
  biases: number[];
}

function activate(activation: string, z: Matrix): Matrix {
  switch (activation) {
    case 'sigmoid':
      return z.map((row) => row.map((v) => 1 / (1 + Math.exp(-v))));
    case 'tanh':
      return z.map((row) => row.map(Math.tanh));
    case 'relu':
      return z.map((row) => row.map((v) => Math.max(0, v)));
    case 'softmax':
      return z.map((row) => {
        const max = Math.max(...row);
        const e = row.map((v) => Math.exp(v - max));
        const sum = e.reduce((a, b) => a + b, 0);
        return e.map((v) => v / sum);
      });
    default:
      return z.map((row) => [...row]);
  }
}

/** dL/dZ from dL/dY for an element-wise activation, from its output Y. */
function backThroughActivation(activation: string, y: Matrix, dy: Matrix): Matrix {
  if (activation === 'softmax') {
    return y.map((row, r) => {
      const dot = row.reduce((sum, v, k) => sum + v * dy[r][k], 0);
      return row.map((v, k) => v * (dy[r][k] - dot));
    });
  }
  const slope = (v: number) => (activation === 'sigmoid' ? v * (1 - v) : activation === 'tanh' ? 1 - v * v : activation === 'relu' ? (v > 0 ? 1 : 0) : 1);
  return map2(y, dy, (v, g) => slope(v) * g);
}

/** The update rules, as PyTorch documents them. */
export type IndependentOptimizer =
  | { kind: 'sgd' }
  /** torch.optim.SGD(momentum=μ, dampening=0): b ← μ·b + g (b = g at the first step); θ ← θ − γ·b. */
  | { kind: 'momentum'; momentum: number }
  /** torch.optim.Adam: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; θ ← θ − γ·m̂/(√v̂ + ε), m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ). */
  | { kind: 'adam'; beta1: number; beta2: number; epsilon: number };

/**
 * One optimizer's state for one tensor (a weight matrix, or a bias vector as a 1-row
 * matrix), and its step: returns the updated tensor.
 */
function optimizerFor(optimizer: IndependentOptimizer, learningRate: number): (theta: Matrix, grad: Matrix) => Matrix {
  let t = 0;
  let buffer: Matrix | undefined; // momentum
  let m: Matrix | undefined; //      Adam's first moment
  let v: Matrix | undefined; //      Adam's second moment
  return (theta, grad) => {
    t++;
    switch (optimizer.kind) {
      case 'sgd':
        return map2(theta, grad, (p, g) => p - learningRate * g);
      case 'momentum':
        buffer = buffer === undefined ? grad.map((row) => [...row]) : map2(buffer, grad, (b, g) => optimizer.momentum * b + g);
        return map2(theta, buffer, (p, b) => p - learningRate * b);
      case 'adam': {
        const { beta1, beta2, epsilon } = optimizer;
        m = map2(m ?? grad.map((row) => row.map(() => 0)), grad, (mean, g) => beta1 * mean + (1 - beta1) * g);
        v = map2(v ?? grad.map((row) => row.map(() => 0)), grad, (square, g) => beta2 * square + (1 - beta2) * g * g);
        const mHat = m.map((row) => row.map((x) => x / (1 - Math.pow(beta1, t))));
        const vHat = v.map((row) => row.map((x) => x / (1 - Math.pow(beta2, t))));
        return theta.map((row, r) => row.map((p, c) => p - (learningRate * mHat[r][c]) / (Math.sqrt(vHat[r][c]) + epsilon)));
      }
    }
  };
}

/**
 * Trains `steps` steps, batches of `batchSize` rows taken in data order with
 * wrap-around; returns the layers with their trained weights (out × in again).
 */
export function trainIndependently(
  layers: IndependentLayer[],
  loss: string,
  trainBiases: boolean,
  inputs: Matrix,
  targets: Matrix,
  learningRate: number,
  batchSize: number,
  steps: number,
  optimizer: IndependentOptimizer = { kind: 'sgd' },
): IndependentLayer[] {
  // TensorFlow's layout: W is (IN, OUT).
  let W = layers.map((layer) => transpose(layer.weights));
  let b = layers.map((layer) => [...layer.biases]);
  const stepW = layers.map(() => optimizerFor(optimizer, learningRate));
  const stepB = layers.map(() => optimizerFor(optimizer, learningRate));
  const N = inputs.length;
  for (let step = 0; step < steps; step++) {
    const rows = Array.from({ length: batchSize }, (_, k) => (step * batchSize + k) % N);
    const X = rows.map((r) => inputs[r]);
    const T = rows.map((r) => targets[r]);
    const activations: Matrix[] = [X];
    layers.forEach((layer, l) => {
      const Z = matmul(activations[l], W[l]).map((row) => row.map((v, c) => v + b[l][c]));
      activations.push(activate(layer.activation, Z));
    });
    const Y = activations[layers.length];
    const K = Y[0].length;
    const B = batchSize;
    const last = layers[layers.length - 1].activation;
    // dL/dZ of the output layer, L the mean over the batch.
    let dZ: Matrix;
    if (loss === 'cross-entropy') {
      dZ = last === 'softmax'
        ? Y.map((row, r) => row.map((v, k) => (v * T[r].reduce((a, c) => a + c, 0) - T[r][k]) / B))
        : map2(Y, T, (y, t) => (y - t) / B);
    } else {
      const scale = loss === 'half-sse' ? 1 : loss === 'sse' ? 2 : 2 / K;
      dZ = backThroughActivation(last, Y, map2(Y, T, (y, t) => (scale * (y - t)) / B));
    }
    const newW = W.map((w) => w.map((row) => [...row]));
    const newB = b.map((v) => [...v]);
    for (let l = layers.length - 1; l >= 0; l--) {
      const dW = matmul(transpose(activations[l]), dZ);
      const db = columnSums(dZ);
      newW[l] = stepW[l](W[l], dW);
      if (trainBiases) newB[l] = stepB[l]([b[l]], [db])[0];
      if (l > 0) dZ = backThroughActivation(layers[l - 1].activation, activations[l], matmul(dZ, transpose(W[l])));
    }
    W = newW;
    b = newB;
  }
  return layers.map((layer, l) => ({ activation: layer.activation, weights: transpose(W[l]), biases: b[l] }));
}
