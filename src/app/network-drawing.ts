// A worked example's network as an SVG drawn in CSS pixels for the width it has, so its
// text stays the same size on a phone and on a desktop: inputs on the left, each layer
// to the right, every weight's name and value on its edge, a shared bias as one node
// feeding its layer (as the articles draw it), a neuron's own bias under it. Edge labels
// sit where no other label or neuron is, on a white halo so crossing edges never strike
// them through (a white box behind each).

import type { Notation } from 'webgpu-backprop/examples';

const SVG = 'http://www.w3.org/2000/svg';
const FONT_PX = 12;
const RADIUS = 20;
const LABEL_HEIGHT = FONT_PX + 4;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

let measurer: CanvasRenderingContext2D | undefined;
/** The width of a label in the drawing's font. */
function textWidth(text: string): number {
  measurer ??= document.createElement('canvas').getContext('2d')!;
  measurer.font = `${FONT_PX}px "DejaVu Sans", sans-serif`;
  return measurer.measureText(text).width;
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

const overlaps = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

export interface NetworkValues {
  inputs: number[];
  weights: number[][][]; // [layer][j][i]
  biases: number[][]; //    [layer][j]
}

/** The bias names of a layer, where all its neurons share one. */
export function sharedBias(notation: Notation, layer: number): string | undefined {
  const names = notation.biases?.[layer];
  return names && names.length > 1 && names.every((name) => name === names[0]) ? names[0] : undefined;
}

/** Draws the network `width` pixels wide; names in `highlight` (h1, w5, b1, i2) are lit. */
export function drawNetwork(notation: Notation, values: NetworkValues, highlight: Set<string>, width: number, showBiases: boolean): SVGSVGElement {
  const columns = [notation.inputs, ...notation.neurons];
  const rows = Math.max(...columns.map((c) => c.length));
  const rowHeight = 96;
  const anyShared = showBiases && notation.neurons.some((_, l) => sharedBias(notation, l));
  const top = 24;
  const height = top + rows * rowHeight + (anyShared ? 56 : showBiases ? 12 : 0);
  const marginX = RADIUS + 12;
  const dx = (width - 2 * marginX) / Math.max(1, columns.length - 1);
  const position = (c: number, k: number) => ({ x: marginX + c * dx, y: top + ((k + 0.5) * rows * rowHeight) / columns[c].length });
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'network', role: 'img', 'aria-label': 'the network' });
  const edges = svg('g', {});
  const nodes = svg('g', {});
  const labels = svg('g', {});
  root.append(edges, nodes, labels);

  // Where labels may not go: the neurons, then each label placed.
  const taken: Box[] = [];
  columns.forEach((names, c) => names.forEach((_, k) => {
    const { x, y } = position(c, k);
    taken.push({ x: x - RADIUS, y: y - RADIUS, width: 2 * RADIUS, height: 2 * RADIUS });
  }));
  // The texts under the neurons: the inputs' values, each neuron's own bias.
  const underTexts: { x: number; y: number; text: string; lit: boolean }[] = [];
  columns.forEach((names, c) =>
    names.forEach((name, k) => {
      const { x, y } = position(c, k);
      let text: string | undefined;
      let lit = false;
      if (c === 0) text = String(values.inputs[k]);
      else if (showBiases && !sharedBias(notation, c - 1)) {
        const bias = notation.biases?.[c - 1][k] ?? `b_${name}`;
        text = `${bias} = ${values.biases[c - 1][k]}`;
        lit = highlight.has(bias);
      }
      if (text === undefined) return;
      underTexts.push({ x, y: y + RADIUS + 14, text, lit });
      taken.push({ x: x - textWidth(text) / 2 - 2, y: y + RADIUS + 2, width: textWidth(text) + 4, height: LABEL_HEIGHT });
    }),
  );
  const biasNodes: { x: number; y: number }[] = [];
  notation.neurons.forEach((_, l) => {
    if (!showBiases || !sharedBias(notation, l)) return;
    const at = { x: marginX + l * dx + dx * 0.18, y: top + rows * rowHeight + 22 };
    biasNodes[l] = at;
    taken.push({ x: at.x - 14, y: at.y - 14, width: 28, height: 28 });
    taken.push({ x: at.x + 16, y: at.y - LABEL_HEIGHT / 2, width: textWidth(`= ${values.biases[l][0]}`) + 4, height: LABEL_HEIGHT });
  });

  /** Puts a label on the segment from `from` to `to`, at the first place along it that is free. */
  const placeLabel = (text: string, from: { x: number; y: number }, to: { x: number; y: number }, lit: boolean, name: string) => {
    const w = textWidth(text) + 4;
    const candidates = [0.3, 0.38, 0.22, 0.46, 0.54, 0.62, 0.7, 0.16];
    let chosen: Box | undefined;
    for (const t of candidates) {
      const cx = from.x + (to.x - from.x) * t;
      const cy = from.y + (to.y - from.y) * t;
      const box = { x: cx - w / 2, y: cy - LABEL_HEIGHT / 2, width: w, height: LABEL_HEIGHT };
      if (box.x >= 0 && box.x + box.width <= width && !taken.some((other) => overlaps(box, other))) {
        chosen = box;
        break;
      }
    }
    // No free place: above the edge's middle, where the halo keeps it readable.
    chosen ??= { x: (from.x + to.x) / 2 - w / 2, y: (from.y + to.y) / 2 - LABEL_HEIGHT, width: w, height: LABEL_HEIGHT };
    taken.push(chosen);
    labels.append(svg('rect', { x: chosen.x, y: chosen.y, width: chosen.width, height: chosen.height, rx: 3, class: 'label-bg' }));
    labels.append(svg('text', { x: chosen.x + chosen.width / 2, y: chosen.y + LABEL_HEIGHT - 4, 'text-anchor': 'middle', class: lit ? 'label lit' : 'label', 'data-name': name }, text));
  };

  notation.neurons.forEach((neurons, l) =>
    neurons.forEach((_, j) =>
      columns[l].forEach((_, i) => {
        const from = position(l, i);
        const to = position(l + 1, j);
        const name = notation.weights[l][j][i];
        const lit = highlight.has(name);
        edges.append(svg('line', { x1: from.x, y1: from.y, x2: to.x, y2: to.y, class: lit ? 'edge lit' : 'edge' }));
        placeLabel(`${name} = ${values.weights[l][j][i]}`, from, to, lit, name);
      }),
    ),
  );

  columns.forEach((names, c) =>
    names.forEach((name, k) => {
      const { x, y } = position(c, k);
      const lit = highlight.has(name);
      nodes.append(svg('circle', { cx: x, cy: y, r: RADIUS, class: lit ? 'neuron lit' : c === 0 ? 'neuron input' : 'neuron' }));
      nodes.append(svg('text', { x, y: y + 5, class: 'neuron-name' }, name));
    }),
  );
  for (const { x, y, text, lit } of underTexts) nodes.append(svg('text', { x, y, class: lit ? 'value lit' : 'value' }, text));

  // Shared biases: one node per layer, feeding each of its neurons.
  biasNodes.forEach((at, l) => {
    const name = sharedBias(notation, l)!;
    const lit = highlight.has(name);
    notation.neurons[l].forEach((_, j) => {
      const to = position(l + 1, j);
      edges.append(svg('line', { x1: at.x, y1: at.y, x2: to.x, y2: to.y, class: lit ? 'edge lit' : 'edge bias-edge' }));
    });
    nodes.append(svg('circle', { cx: at.x, cy: at.y, r: 14, class: lit ? 'neuron lit' : 'neuron bias' }));
    nodes.append(svg('text', { x: at.x, y: at.y + 4, class: 'neuron-name' }, name));
    labels.append(svg('text', { x: at.x + 18, y: at.y + 4, class: lit ? 'label lit' : 'label', 'data-name': name }, `= ${values.biases[l][0]}`));
  });
  return root;
}
