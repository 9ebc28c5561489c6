// The inputs a 2-D dataset can give the network, as TensorFlow Playground offers them:
// x and y always, and optionally their squares, their product and their sines. A point
// (x, y) becomes one row of the chosen features, for training and for the plane's grid alike.

export const FEATURES = ['x2', 'y2', 'xy', 'sinx', 'siny'] as const;
export type Feature = (typeof FEATURES)[number];

/** Each feature's name as the page shows it, and its value at (x, y). */
export const FEATURE_DEFINITIONS: Record<Feature, { label: string; value: (x: number, y: number) => number }> = {
  x2: { label: 'x²', value: (x) => x * x },
  y2: { label: 'y²', value: (_, y) => y * y },
  xy: { label: 'x·y', value: (x, y) => x * y },
  sinx: { label: 'sin x', value: (x) => Math.sin(x) },
  siny: { label: 'sin y', value: (_, y) => Math.sin(y) },
};

/** The inputs' names: x, y, then the features chosen, in FEATURES order. */
export function featureNames(features: readonly Feature[]): string[] {
  return ['x', 'y', ...FEATURES.filter((f) => features.includes(f)).map((f) => FEATURE_DEFINITIONS[f].label)];
}

/** Points (N, 2) as rows of x, y and the chosen features: (N, 2 + F). */
export function withFeatures(points: Float64Array, features: readonly Feature[]): Float64Array {
  const chosen = FEATURES.filter((f) => features.includes(f));
  if (chosen.length === 0) return points;
  const width = 2 + chosen.length;
  const count = points.length / 2;
  const rows = new Float64Array(count * width);
  for (let n = 0; n < count; n++) {
    const [x, y] = [points[2 * n], points[2 * n + 1]];
    rows[n * width] = x;
    rows[n * width + 1] = y;
    chosen.forEach((f, k) => (rows[n * width + 2 + k] = FEATURE_DEFINITIONS[f].value(x, y)));
  }
  return rows;
}
