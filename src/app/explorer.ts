// The worked-example explorer: pick an article's example, see its network drawn, step
// through the forward pass, the error, the backward pass and the update one value at a
// time in the article's notation, with the article's number, the float64 reference and
// the GPU side by side. Weights, inputs, targets and learning rate can be edited; the run
// exports as JSON and Markdown.

import { traceCase, traceToMarkdown, WORKED_EXAMPLES, type CaseTrace, type ExampleTrace, type ModelFile, type TraceLine, type WorkedCase, type WorkedExample } from 'webgpu-backprop';
import { download, field, formatNumber, h } from './dom.ts';
import type { AppGpu } from './main.ts';

interface Edits {
  inputs: number[];
  targets: number[];
  learningRate: number;
  weights: number[][][]; // [layer][j][i]
  biases: number[][]; //   [layer][j]
}

function editsOf(workedCase: WorkedCase): Edits {
  return {
    inputs: [...workedCase.inputs],
    targets: [...workedCase.targets],
    learningRate: workedCase.learningRate,
    weights: workedCase.model.layers.map((layer) => layer.weights!.map((row) => [...row])),
    biases: workedCase.model.layers.map((layer) => [...(layer.biases ?? new Array(layer.weights!.length).fill(0))]),
  };
}

/** The case with the edits applied; the article's numbers no longer apply once anything changed. */
function editedCase(base: WorkedCase, edits: Edits): WorkedCase {
  const changed = JSON.stringify(edits) !== JSON.stringify(editsOf(base));
  const model: ModelFile = {
    ...base.model,
    layers: base.model.layers.map((layer, l) => ({ ...layer, weights: edits.weights[l], biases: edits.biases[l] })),
  };
  return { ...base, model, inputs: edits.inputs, targets: edits.targets, learningRate: edits.learningRate, printed: changed ? [] : base.printed };
}

/** Names of neurons and weights a trace symbol speaks of: 'h1' in net_h1, 'w5' in ∂E_total/∂w5. */
function namesIn(symbol: string): Set<string> {
  return new Set(symbol.match(/[a-z]+\d+/gi) ?? []);
}

const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** The network: inputs on the left, each layer to the right, weights on the edges, biases under the neurons. */
function drawNetwork(workedCase: WorkedCase, edits: Edits, highlight: Set<string>): SVGSVGElement {
  const { notation } = workedCase;
  const columns = [notation.inputs, ...notation.neurons];
  const width = 220 * columns.length;
  const height = 90 * Math.max(...columns.map((c) => c.length)) + 40;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'network', role: 'img', 'aria-label': 'the network' });
  const position = (c: number, k: number) => ({ x: 70 + c * 200, y: ((k + 1) * height) / (columns[c].length + 1) });
  notation.neurons.forEach((neurons, l) =>
    neurons.forEach((_, j) =>
      columns[l].forEach((_, i) => {
        const from = position(l, i);
        const to = position(l + 1, j);
        const name = notation.weights[l][j][i];
        const lit = highlight.has(name);
        root.append(svg('line', { x1: from.x, y1: from.y, x2: to.x, y2: to.y, class: lit ? 'edge lit' : 'edge' }));
        const at = { x: from.x + (to.x - from.x) * 0.3, y: from.y + (to.y - from.y) * 0.3 - 4 };
        root.append(svg('text', { x: at.x, y: at.y, class: lit ? 'weight lit' : 'weight' }, `${name} = ${edits.weights[l][j][i]}`));
      }),
    ),
  );
  columns.forEach((names, c) =>
    names.forEach((name, k) => {
      const { x, y } = position(c, k);
      const lit = highlight.has(name);
      root.append(svg('circle', { cx: x, cy: y, r: 22, class: lit ? 'neuron lit' : c === 0 ? 'neuron input' : 'neuron' }));
      root.append(svg('text', { x, y: y + 5, class: 'neuron-name' }, name));
      if (c === 0) root.append(svg('text', { x, y: y + 40, class: 'value' }, String(edits.inputs[k])));
      if (c > 0) {
        const bias = notation.biases?.[c - 1][k] ?? 'b';
        root.append(svg('text', { x, y: y + 40, class: 'value' }, `${bias} = ${edits.biases[c - 1][k]}`));
      }
    }),
  );
  return root;
}

function numberInput(value: number, onChange: (value: number) => void, label: string): HTMLInputElement {
  const input = h('input', { type: 'number', step: 'any', value, 'aria-label': label });
  input.addEventListener('change', () => {
    const parsed = Number(input.value);
    if (input.value.trim() !== '' && Number.isFinite(parsed)) onChange(parsed);
    else input.value = String(value);
  });
  return input;
}

export function mount(root: HTMLElement, gpu: AppGpu | undefined): void {
  let example: WorkedExample = WORKED_EXAMPLES[0];
  let caseIndex = 0;
  let edits = editsOf(example.cases[0]);
  let trace: CaseTrace | undefined;
  let cursor = 0; // rows shown: 0 … cursor
  let showAll = false; // kept across recomputations, so an edit does not hide the rows
  let generation = 0;

  const picker = h('select', { id: 'example' });
  for (const e of WORKED_EXAMPLES) picker.append(h('option', { value: e.name }, `${e.name}: article ${e.article}, ${e.author}`));
  const casePicker = h('select', { id: 'case' });
  const network = h('div', { class: 'network-box' });
  const editor = h('div', { class: 'editor' });
  const table = h('table', { class: 'trace', id: 'trace' });
  const current = h('div', { class: 'current-value', id: 'current', 'aria-live': 'polite' });
  const status = h('p', { class: 'status' });

  const workedCase = () => editedCase(example.cases[caseIndex], edits);

  const renderEditor = () => {
    const c = example.cases[caseIndex];
    const set = (apply: () => void) => {
      apply();
      recompute();
    };
    editor.replaceChildren(
      h('h3', {}, 'Inputs, targets, learning rate'),
      h(
        'div',
        { class: 'row' },
        ...c.notation.inputs.map((name, i) => field(name, numberInput(edits.inputs[i], (v) => set(() => (edits.inputs[i] = v)), name))),
        ...c.notation.neurons[c.notation.neurons.length - 1].map((name, k) =>
          field(`target ${name}`, numberInput(edits.targets[k], (v) => set(() => (edits.targets[k] = v)), `target ${name}`)),
        ),
        field('learning rate', numberInput(edits.learningRate, (v) => set(() => (edits.learningRate = v)), 'learning rate')),
      ),
      h('h3', {}, 'Weights and biases'),
      ...c.notation.neurons.map((neurons, l) =>
        h(
          'div',
          { class: 'row' },
          ...neurons.flatMap((neuron, j) => [
            ...c.notation.weights[l][j].map((name, i) => field(name, numberInput(edits.weights[l][j][i], (v) => set(() => (edits.weights[l][j][i] = v)), name))),
            field(`${c.notation.biases?.[l][j] ?? 'bias'} (${neuron})`, numberInput(edits.biases[l][j], (v) => set(() => (edits.biases[l][j] = v)), `bias of ${neuron}`)),
          ]),
        ),
      ),
      h('button', { type: 'button', onclick: () => set(() => ((edits = editsOf(c)), renderEditor())) }, 'Restore the article’s values'),
    );
  };

  const renderTrace = () => {
    const lines = trace?.lines ?? [];
    const shown = lines.slice(0, cursor + 1);
    const line: TraceLine | undefined = lines[cursor];
    network.replaceChildren(drawNetwork(workedCase(), edits, namesIn(line?.symbol ?? '')));
    const hasGpu = lines.some((l) => l.webgpu !== undefined);
    table.replaceChildren(
      h('thead', {}, h('tr', {}, h('th', {}, 'section'), h('th', {}, 'symbol'), h('th', {}, 'article'), h('th', {}, 'reference (float64)'), hasGpu ? h('th', {}, 'webgpu (float32)') : null, hasGpu ? h('th', {}, '|ref − gpu|') : null)),
      h(
        'tbody',
        {},
        ...shown.map((l, k) =>
          h(
            'tr',
            { class: k === cursor ? 'cursor' : '', 'data-symbol': l.symbol },
            h('td', {}, l.section),
            h('td', { class: 'symbol' }, l.symbol),
            h('td', { class: l.article === undefined ? '' : l.agrees ? 'agrees' : 'disagrees', title: l.erratum ?? '' }, l.article === undefined ? '' : `${l.article} ${l.agrees ? '✓' : '✗'}`),
            h('td', { class: 'reference' }, formatNumber(l.reference)),
            hasGpu ? h('td', { class: 'webgpu' }, formatNumber(l.webgpu)) : null,
            hasGpu ? h('td', {}, l.difference === undefined ? '' : l.difference.toExponential(1)) : null,
          ),
        ),
      ),
    );
    current.replaceChildren(
      line
        ? h(
            'div',
            {},
            h('div', { class: 'section-name' }, `${line.section} · ${cursor + 1} of ${lines.length}`),
            h('div', { class: 'big-symbol' }, line.symbol),
            h(
              'div',
              { class: 'side-by-side' },
              h('span', {}, 'article ', h('b', {}, line.article ?? '—')),
              h('span', {}, 'reference ', h('b', {}, formatNumber(line.reference))),
              h('span', {}, 'webgpu ', h('b', {}, line.webgpu === undefined ? '—' : formatNumber(line.webgpu))),
            ),
            line.erratum ? h('div', { class: 'erratum' }, `The article's value disagrees with exact arithmetic: see ${line.erratum}.`) : null,
          )
        : 'Computing…',
    );
  };

  const recompute = async () => {
    const mine = ++generation;
    trace = undefined;
    status.textContent = gpu ? `Running one step on the reference and on ${gpu.adapter}…` : 'Running one step on the float64 reference (no WebGPU here)…';
    root.dataset.state = 'computing';
    renderTrace();
    try {
      const result = await traceCase(workedCase(), gpu ? await gpu.device() : undefined);
      if (mine !== generation) return;
      trace = result;
      cursor = showAll ? result.lines.length - 1 : Math.min(cursor, result.lines.length - 1);
      status.textContent = `${result.lines.length} values. Step through them, or show them all.`;
      root.dataset.state = 'ready';
    } catch (error) {
      status.textContent = `Could not run this example: ${(error as Error).message}`;
      root.dataset.state = 'error';
    }
    renderTrace();
  };

  const chooseExample = () => {
    example = WORKED_EXAMPLES.find((e) => e.name === picker.value)!;
    casePicker.replaceChildren(...example.cases.map((c, k) => h('option', { value: k }, c.title)));
    caseIndex = 0;
    edits = editsOf(example.cases[0]);
    cursor = 0;
    renderEditor();
    recompute();
  };
  picker.addEventListener('change', chooseExample);
  casePicker.addEventListener('change', () => {
    caseIndex = Number(casePicker.value);
    edits = editsOf(example.cases[caseIndex]);
    cursor = 0;
    renderEditor();
    recompute();
  });

  const move = (by: number) => () => {
    showAll = false;
    cursor = Math.max(0, Math.min((trace?.lines.length ?? 1) - 1, cursor + by));
    renderTrace();
  };
  const showEverything = () => {
    showAll = true;
    cursor = (trace?.lines.length ?? 1) - 1;
    renderTrace();
  };
  const exported = (): ExampleTrace => ({ example: example.name, article: example.article, title: example.title, author: example.author, adapter: gpu?.adapter, cases: trace ? [trace] : [] });

  root.append(
    h(
      'section',
      { class: 'explorer' },
      h('h2', {}, 'Worked examples'),
      h('div', { class: 'row' }, field('example', picker), field('case', casePicker)),
      status,
      network,
      h(
        'div',
        { class: 'row controls' },
        h('button', { type: 'button', id: 'first', onclick: move(-Infinity) }, '« First'),
        h('button', { type: 'button', id: 'previous', onclick: move(-1) }, '◀ Previous'),
        h('button', { type: 'button', id: 'next', class: 'primary', onclick: move(1) }, 'Next ▶'),
        h('button', { type: 'button', id: 'show-all', onclick: showEverything }, 'Show all'),
        h('button', { type: 'button', id: 'export-json', onclick: () => download(`${example.name}-trace.json`, JSON.stringify(exported(), null, 2)) }, 'Export JSON'),
        h('button', { type: 'button', id: 'export-markdown', onclick: () => download(`${example.name}-trace.md`, traceToMarkdown(exported()), 'text/markdown') }, 'Export Markdown'),
      ),
      current,
      table,
      editor,
    ),
  );
  chooseExample();
}
