// The network drawn as TensorFlow Playground draws it: a column per layer, each neuron a
// small map of its output over the plane (orange below zero, blue above; a sigmoid's from
// its midpoint), the inputs' maps on the left, the output's on the right, every neuron
// linked to the layer before. The hidden neurons' maps are the network's own outputs of
// that layer on the plane's grid, computed on the GPU by the prediction kernels.

import type { Activation, ModelSpec } from 'webgpu-backprop';
import { h } from '../dom.ts';

const SVG = 'http://www.w3.org/2000/svg';
/** A map's side on the page, in CSS pixels. */
const MAP_PX = 38;
const GAP_PX = 8;

/** A neuron's map: its canvas, with the values it shows (G·G, row by row from the top). */
export type NeuronCanvas = HTMLCanvasElement & { mapValues?: Float64Array };

/** An RGB colour for a value in [−1, 1]: orange below zero, white at zero, blue above. */
function color(value: number): [number, number, number] {
  const t = Math.max(-1, Math.min(1, value));
  const [r, g, b] = t < 0 ? [245, 147, 34] : [8, 119, 189];
  const w = Math.abs(t);
  return [Math.round(255 + (r - 255) * w), Math.round(255 + (g - 255) * w), Math.round(255 + (b - 255) * w)];
}

/** How a layer's outputs map to [−1, 1]: a sigmoid's from its midpoint, tanh's as they are, the rest by their largest magnitude. */
function scaleOf(activation: Activation | 'input', values: Float64Array): (v: number) => number {
  if (activation === 'sigmoid' || activation === 'softmax') return (v) => 2 * v - 1;
  if (activation === 'tanh') return (v) => v;
  let largest = 0;
  for (const v of values) largest = Math.max(largest, Math.abs(v));
  return largest > 0 ? (v) => v / largest : () => 0;
}

/** Paints one map: values (G·G) on a G × G canvas. */
function paint(canvas: NeuronCanvas, values: Float64Array, size: number, scale: (v: number) => number): void {
  const context = canvas.getContext('2d')!;
  const image = context.createImageData(size, size);
  for (let k = 0; k < size * size; k++) image.data.set([...color(scale(values[k])), 255], 4 * k);
  context.putImageData(image, 0, 0);
  canvas.mapValues = values;
}

export interface NeuronMaps {
  element: HTMLElement;
  /**
   * Draws the maps: each input's values over the grid (G·G, IN), each hidden layer's outputs
   * (G·G, units), and the output's (G·G, OUT; the last output is drawn).
   */
  draw(size: number, inputs: Float64Array, hidden: Float64Array[], outputs: Float64Array): void;
}

/** The drawing for a network of this spec, with its inputs' names. */
export function neuronMaps(spec: ModelSpec, inputNames: string[]): NeuronMaps {
  const columns = [inputNames.length, ...spec.layers.slice(0, -1).map((l) => l.units), 1];
  const rows = Math.max(...columns);
  const height = rows * (MAP_PX + GAP_PX) + GAP_PX;
  const element = h('div', { class: 'neuron-maps', id: 'neuron-maps', style: `height: ${height}px` });
  const edges = document.createElementNS(SVG, 'svg');
  edges.setAttribute('class', 'neuron-edges');
  edges.setAttribute('aria-hidden', 'true');
  element.append(edges);
  const L = spec.layers.length;
  const canvases: NeuronCanvas[][] = columns.map((count, c) =>
    Array.from({ length: count }, (_, k) => {
      const label = c === 0 ? `input ${inputNames[k]}` : c === columns.length - 1 ? 'output' : `layer ${c}, neuron ${k + 1}`;
      const canvas: NeuronCanvas = h('canvas', { class: c === 0 ? 'neuron-map input' : c === columns.length - 1 ? 'neuron-map output' : 'neuron-map hidden', role: 'img', 'aria-label': `${label}: its output over the plane`, title: label, 'data-layer': c - 1, 'data-unit': k });
      element.append(canvas);
      if (c === 0) element.append(h('span', { class: 'neuron-name', 'data-unit': k }, inputNames[k]));
      return canvas;
    }),
  );
  // Positions by the width the drawing has: columns evenly across, each column centred.
  const place = () => {
    const width = element.clientWidth || 300;
    const step = (width - MAP_PX - 40) / Math.max(1, columns.length - 1);
    const at = (c: number, k: number) => ({ x: 40 + c * step, y: GAP_PX + ((rows - columns[c]) / 2 + k) * (MAP_PX + GAP_PX) });
    edges.setAttribute('viewBox', `0 0 ${width} ${height}`);
    edges.replaceChildren();
    canvases.forEach((column, c) =>
      column.forEach((canvas, k) => {
        const { x, y } = at(c, k);
        canvas.style.left = `${x}px`;
        canvas.style.top = `${y}px`;
        if (c > 0) {
          for (let i = 0; i < columns[c - 1]; i++) {
            const from = at(c - 1, i);
            const line = document.createElementNS(SVG, 'line');
            line.setAttribute('x1', String(from.x + MAP_PX));
            line.setAttribute('y1', String(from.y + MAP_PX / 2));
            line.setAttribute('x2', String(x));
            line.setAttribute('y2', String(y + MAP_PX / 2));
            edges.append(line);
          }
        }
      }),
    );
    element.querySelectorAll<HTMLElement>('.neuron-name').forEach((name, k) => {
      const { y } = at(0, k);
      name.style.top = `${y + MAP_PX / 2 - 7}px`;
    });
  };
  new ResizeObserver(place).observe(element);
  return {
    element,
    draw(size, inputs, hidden, outputs) {
      const IN = columns[0];
      canvases.flat().forEach((canvas) => {
        canvas.width = size;
        canvas.height = size;
      });
      canvases[0].forEach((canvas, i) => {
        const values = Float64Array.from({ length: size * size }, (_, k) => inputs[k * IN + i]);
        paint(canvas, values, size, scaleOf('input', values));
      });
      hidden.forEach((layer, l) => {
        const units = spec.layers[l].units;
        canvases[l + 1].forEach((canvas, j) => {
          const values = Float64Array.from({ length: size * size }, (_, k) => layer[k * units + j]);
          paint(canvas, values, size, scaleOf(spec.layers[l].activation, values));
        });
      });
      const K = spec.layers[L - 1].units;
      const last = Float64Array.from({ length: size * size }, (_, k) => outputs[k * K + K - 1]);
      paint(canvases.at(-1)![0], last, size, scaleOf(spec.layers[L - 1].activation, last));
    },
  };
}
