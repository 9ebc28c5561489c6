// What the playground draws beside its curves: the decision boundary of a 2-D
// classifier (over the data's own range), sample test digits with their predictions,
// the confusion matrix with per-class accuracy, and predicted against actual values for
// a regression.

import { predictedClasses, type Dataset } from 'webgpu-backprop/trainers';
import { h } from '../dom.ts';

/** The region of the plane the boundary covers: the data's range on each axis, with a margin. */
export interface Area {
  x: [number, number];
  y: [number, number];
}

export interface BoundaryGrid {
  area: Area;
  size: number; // G: the grid is G × G
  outputs: Float64Array; // (G·G, OUT), row by row from the top
}

export const GRID_SIZE = 50;

/** The points' range on both axes ((N, 2) each), 10% wider on each side. */
export function dataArea(...pointSets: Float64Array[]): Area {
  const range = (axis: number): [number, number] => {
    let [low, high] = [Infinity, -Infinity];
    for (const points of pointSets) {
      for (let n = 0; n < points.length / 2; n++) {
        const value = points[n * 2 + axis];
        low = Math.min(low, value);
        high = Math.max(high, value);
      }
    }
    const margin = high > low ? 0.1 * (high - low) : 1;
    return [low - margin, high + margin];
  };
  return { x: range(0), y: range(1) };
}

/** The centres of the grid's cells, (G·G, 2), row by row from the top. */
export function gridInputs(area: Area, size: number): Float64Array {
  const inputs = new Float64Array(size * size * 2);
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      inputs[2 * (row * size + column)] = area.x[0] + ((column + 0.5) / size) * (area.x[1] - area.x[0]);
      inputs[2 * (row * size + column) + 1] = area.y[1] - ((row + 0.5) / size) * (area.y[1] - area.y[0]);
    }
  }
  return inputs;
}

const CLASS_COLORS = ['#e67e22', '#2471a3', '#27ae60', '#8e44ad', '#c0392b', '#16a085', '#d4ac0d', '#7f8c8d', '#e84393', '#2c3e50'];

function mix(hex: string, weight: number): string {
  const channel = (k: number) => parseInt(hex.slice(1 + 2 * k, 3 + 2 * k), 16);
  const blend = (k: number) => Math.round(255 + (channel(k) - 255) * weight);
  return `rgb(${blend(0)}, ${blend(1)}, ${blend(2)})`;
}

/** Which class a row's outputs say, and how sure: two classes shade from one colour to the other. */
function shade(outputs: ArrayLike<number>, offset: number, width: number): string {
  if (width <= 2) {
    const p = Math.max(0, Math.min(1, width === 1 ? outputs[offset] : outputs[offset + 1]));
    return p >= 0.5 ? mix(CLASS_COLORS[1], 0.15 + 0.6 * (p - 0.5) * 2) : mix(CLASS_COLORS[0], 0.15 + 0.6 * (0.5 - p) * 2);
  }
  let best = 0;
  for (let k = 1; k < width; k++) if (outputs[offset + k] > outputs[offset + best]) best = k;
  return mix(CLASS_COLORS[best % CLASS_COLORS.length], 0.15 + 0.6 * Math.max(0, Math.min(1, outputs[offset + best])));
}

/** About `count` round values (1, 2 or 5 × 10^k apart) within [low, high]. */
export function niceTicks(low: number, high: number, count = 5): number[] {
  const raw = (high - low) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(low / step) * step; t <= high + 1e-9 * step; t += step) ticks.push(Math.abs(t) < 1e-9 * step ? 0 : Number(t.toPrecision(12)));
  return ticks;
}

/** Points of the plane (N, 2) and their targets (N, K): a 2-D set's training or test rows. */
export interface PlanePoints {
  points: Float64Array;
  targets: Float64Array;
}

/** Draws the boundary, the training points (filled) and the test points (ringed), with the axes' ranges. */
export function drawBoundary(canvas: HTMLCanvasElement, grid: BoundaryGrid, train: PlanePoints, test: PlanePoints): void {
  const context = canvas.getContext('2d')!;
  const { width, height } = canvas;
  const margin = { left: 40, bottom: 22, top: 8, right: 10 };
  const plot = { width: width - margin.left - margin.right, height: height - margin.top - margin.bottom };
  const K = grid.outputs.length / (grid.size * grid.size);
  const G = grid.size;
  context.fillStyle = 'white';
  context.fillRect(0, 0, width, height);
  const cellWidth = plot.width / G;
  const cellHeight = plot.height / G;
  for (let k = 0; k < G * G; k++) {
    context.fillStyle = shade(grid.outputs, k * K, K);
    context.fillRect(margin.left + (k % G) * cellWidth, margin.top + Math.floor(k / G) * cellHeight, cellWidth + 1, cellHeight + 1);
  }
  const { area } = grid;
  const toX = (x: number) => margin.left + ((x - area.x[0]) / (area.x[1] - area.x[0])) * plot.width;
  const toY = (y: number) => margin.top + ((area.y[1] - y) / (area.y[1] - area.y[0])) * plot.height;
  for (const [data, ringed] of [[train, false], [test, true]] as const) {
    const classes = predictedClasses(data.targets, K);
    for (let n = 0; n < data.points.length / 2; n++) {
      context.beginPath();
      context.arc(toX(data.points[2 * n]), toY(data.points[2 * n + 1]), 3, 0, 2 * Math.PI);
      context.fillStyle = CLASS_COLORS[classes[n] % CLASS_COLORS.length];
      context.fill();
      context.lineWidth = ringed ? 1.5 : 0.75;
      context.strokeStyle = ringed ? '#1c2833' : 'white';
      context.stroke();
    }
  }
  // Axes, with round ticks over the data's range.
  context.fillStyle = '#1c2833';
  context.strokeStyle = '#1c2833';
  context.font = '10px "DejaVu Sans", sans-serif';
  context.textAlign = 'center';
  for (const x of niceTicks(area.x[0], area.x[1])) {
    context.fillText(String(x), toX(x), height - 8);
    context.beginPath();
    context.moveTo(toX(x), margin.top + plot.height);
    context.lineTo(toX(x), margin.top + plot.height + 3);
    context.stroke();
  }
  context.textAlign = 'right';
  for (const y of niceTicks(area.y[0], area.y[1])) {
    context.fillText(String(y), margin.left - 5, toY(y) + 3);
    context.beginPath();
    context.moveTo(margin.left - 3, toY(y));
    context.lineTo(margin.left, toY(y));
    context.stroke();
  }
  context.strokeStyle = '#aab7b8';
  context.lineWidth = 1;
  context.strokeRect(margin.left, margin.top, plot.width, plot.height);
}

/** Predicted against actual values of the test rows (the first output), with the line where they agree. */
export function drawScatter(canvas: HTMLCanvasElement, outputs: Float64Array, test: Dataset): void {
  const context = canvas.getContext('2d')!;
  const { width, height } = canvas;
  const margin = { left: 40, bottom: 30, top: 8, right: 8 };
  const K = test.outputSize;
  const actual = Array.from({ length: test.size }, (_, n) => test.targets[n * K]);
  const predicted = Array.from({ length: test.size }, (_, n) => outputs[n * K]);
  const values = [...actual, ...predicted].filter(Number.isFinite);
  let [low, high] = [Math.min(...values), Math.max(...values)];
  if (!(high > low)) [low, high] = [low - 1, high + 1];
  const pad = 0.05 * (high - low);
  [low, high] = [low - pad, high + pad];
  const plot = { width: width - margin.left - margin.right, height: height - margin.top - margin.bottom };
  const toX = (v: number) => margin.left + ((v - low) / (high - low)) * plot.width;
  const toY = (v: number) => margin.top + ((high - v) / (high - low)) * plot.height;
  context.fillStyle = 'white';
  context.fillRect(0, 0, width, height);
  context.strokeStyle = '#aab7b8';
  context.strokeRect(margin.left, margin.top, plot.width, plot.height);
  context.beginPath();
  context.moveTo(toX(low), toY(low));
  context.lineTo(toX(high), toY(high));
  context.setLineDash([4, 3]);
  context.stroke();
  context.setLineDash([]);
  context.fillStyle = '#2471a3';
  actual.forEach((a, n) => {
    context.beginPath();
    context.arc(toX(a), toY(Math.max(low, Math.min(high, predicted[n]))), 2.5, 0, 2 * Math.PI);
    context.fill();
  });
  context.fillStyle = '#1c2833';
  context.font = '10px "DejaVu Sans", sans-serif';
  context.textAlign = 'center';
  context.fillText(`actual (${low.toPrecision(3)} … ${high.toPrecision(3)})`, margin.left + plot.width / 2, height - 8);
  context.save();
  context.translate(12, margin.top + plot.height / 2);
  context.rotate(-Math.PI / 2);
  context.fillText('predicted', 0, 0);
  context.restore();
}

/** `rgb` laid over white with opacity `alpha`. */
function blend(rgb: [number, number, number], alpha: number): [number, number, number] {
  return rgb.map((c) => Math.round(255 + (c - 255) * alpha)) as [number, number, number];
}

/** WCAG's relative luminance of an sRGB colour. */
export function luminance([r, g, b]: readonly number[]): number {
  const linear = (c: number) => (c / 255 <= 0.04045 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/** Black or white text, whichever stands out more on `background`: one of them always reaches 4.5:1. */
export function readableOn(background: readonly number[]): string {
  const l = luminance(background);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000' : '#fff';
}

/** The confusion matrix, matrix[actual][predicted], as a table shaded by each row's share, with each class's accuracy (its recall); updated in place. */
export function confusionTable(classNames: string[]): { element: HTMLElement; update(matrix: number[][]): void } {
  const short = classNames.map((name) => (name.length > 10 ? `${name.slice(0, 9)}…` : name));
  const cells = classNames.map(() => classNames.map(() => h('td', {})));
  const recalls = classNames.map(() => h('td', { class: 'recall' }));
  const table = h(
    'table',
    { class: 'confusion', id: 'confusion' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, h('span', { class: 'wide-only' }, 'actual ╲ predicted'), h('span', { class: 'narrow-only' }, '╲')),
        ...short.map((name) => h('th', { scope: 'col' }, name)),
        h('th', { scope: 'col' }, h('span', { class: 'wide-only' }, 'accuracy'), h('span', { class: 'narrow-only' }, 'acc.')),
      ),
    ),
    h('tbody', {}, ...short.map((name, actual) => h('tr', {}, h('th', { scope: 'row' }, name), ...cells[actual], recalls[actual]))),
  );
  return {
    element: h('div', { class: 'table-scroll' }, table),
    update(matrix) {
      matrix.forEach((row, actual) => {
        const total = row.reduce((a, b) => a + b, 0);
        row.forEach((count, predicted) => {
          const share = total > 0 ? count / total : 0;
          const background = blend(predicted === actual ? [30, 132, 73] : [176, 58, 46], predicted === actual ? share : Math.min(1, 3 * share));
          const cell = cells[actual][predicted];
          const style = `background: rgb(${background.join(', ')}); color: ${readableOn(background)}`;
          if (cell.getAttribute('style') !== style) cell.setAttribute('style', style);
          if (cell.textContent !== String(count)) cell.textContent = String(count);
        });
        const recall = total > 0 ? `${((100 * row[actual]) / total).toFixed(1)}%` : '–';
        if (recalls[actual].textContent !== recall) recalls[actual].textContent = recall;
      });
    },
  };
}
