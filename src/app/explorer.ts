// The worked-example explorer: pick an article's example, see its network drawn, step
// through the forward pass, the error, the backward pass and the update one value at a
// time (buttons or arrow keys) in the article's notation: each value's formula with its
// numbers, the article's number, the float64 reference and the GPU side by side, the GPU's
// difference marked against the float32 bound derived for it, and an erratum explained
// where the article's number is off. Weights, inputs, targets, learning rate and a weight
// decay (L2, shown in the update's formula) can be edited; the run exports as JSON and Markdown.

import type { ModelFile } from 'webgpu-backprop';
import { traceCase, traceToMarkdown, WORKED_EXAMPLES, type CaseTrace, type ExampleTrace, type TraceLine, type WorkedCase, type WorkedExample } from 'webgpu-backprop/examples';
import { download, field, formatNumber, h } from './dom.ts';
import { erratumAnchor, erratumEntry, erratumLink } from './errata.ts';
import type { AppGpu } from './gpu.ts';
import { drawNetwork, sharedBias } from './network-drawing.ts';

interface Edits {
  inputs: number[];
  targets: number[];
  learningRate: number;
  /** λ: the update's L2 term λ·w, 0 in the articles. */
  weightDecay: number;
  weights: number[][][]; // [layer][j][i]
  biases: number[][]; //   [layer][j]
}

function editsOf(workedCase: WorkedCase): Edits {
  return {
    inputs: [...workedCase.inputs],
    targets: [...workedCase.targets],
    learningRate: workedCase.learningRate,
    weightDecay: workedCase.weightDecay ?? 0,
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
  return { ...base, model, inputs: edits.inputs, targets: edits.targets, learningRate: edits.learningRate, weightDecay: edits.weightDecay, printed: changed ? [] : base.printed };
}

/** Whether a case has biases to show: named by the article, or not zero. */
function hasBiases(workedCase: WorkedCase): boolean {
  return workedCase.notation.biases !== undefined || workedCase.model.layers.some((layer) => layer.biases?.some((b) => b !== 0));
}

/** Names of neurons, weights and biases a line speaks of: its formula's symbols (h1, i1, w5, b1), else its own. */
function namesIn(line: TraceLine | undefined): Set<string> {
  if (!line) return new Set();
  const symbolic = line.formula ? line.formula.split(' = ').slice(0, 2).join(' ') : line.symbol;
  return new Set(symbolic.match(/[a-z]+\d+/gi) ?? []);
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

/** |ref − gpu| against its bound: ✓ within, ✗ beyond, or no bound (values after further steps). */
function differenceCell(line: TraceLine): HTMLTableCellElement {
  if (line.difference === undefined) return h('td', { class: 'difference' });
  const shown = line.difference.toExponential(1);
  if (line.tolerance === undefined) return h('td', { class: 'difference unbounded', title: 'no float32 bound is derived for this value (one after further steps, or a piece of the article’s own chain rule)' }, `${shown} ·`);
  return line.withinTolerance
    ? h('td', { class: 'difference within', title: `within the float32 bound ${line.tolerance.toExponential(1)} derived for this value` }, `${shown} ✓`)
    : h('td', { class: 'difference beyond', title: `beyond the float32 bound ${line.tolerance.toExponential(1)} derived for this value` }, `${shown} ✗`);
}

export function mount(root: HTMLElement, gpu: AppGpu | undefined): () => void {
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
  const network = h('div', { class: 'network-box', id: 'network' });
  const editor = h('div', { class: 'editor' });
  const table = h('table', { class: 'trace', id: 'trace' });
  const tableBox = h('div', { class: 'trace-box', tabindex: 0, role: 'region', 'aria-label': 'the trace, value by value' }, table);
  const current = h('div', { class: 'current-value', id: 'current', 'aria-live': 'polite' });
  const status = h('p', { class: 'status' });

  const workedCase = () => editedCase(example.cases[caseIndex], edits);

  const renderEditor = () => {
    const c = example.cases[caseIndex];
    const { notation } = c;
    const set = (apply: () => void) => {
      apply();
      recompute();
    };
    const biasFields = (l: number) => {
      if (!hasBiases(c)) return [];
      const shared = sharedBias(notation, l);
      // A bias the article shares between a layer's neurons is one value: one field sets it for all.
      if (shared) return [field(shared, numberInput(edits.biases[l][0], (v) => set(() => edits.biases[l].fill(v)), shared))];
      return notation.neurons[l].map((neuron, j) => {
        const name = notation.biases?.[l][j] ?? `b_${neuron}`;
        return field(name, numberInput(edits.biases[l][j], (v) => set(() => (edits.biases[l][j] = v)), name));
      });
    };
    editor.replaceChildren(
      h('h3', {}, 'Inputs, targets, learning rate, weight decay'),
      h(
        'div',
        { class: 'row' },
        ...notation.inputs.map((name, i) => field(name, numberInput(edits.inputs[i], (v) => set(() => (edits.inputs[i] = v)), name))),
        ...notation.neurons[notation.neurons.length - 1].map((name, k) => field(`target ${name}`, numberInput(edits.targets[k], (v) => set(() => (edits.targets[k] = v)), `target ${name}`))),
        field('learning rate η', numberInput(edits.learningRate, (v) => set(() => (edits.learningRate = v)), 'learning rate')),
        field('weight decay λ', numberInput(edits.weightDecay, (v) => set(() => (v >= 0 ? (edits.weightDecay = v) : renderEditor())), 'weight decay')),
      ),
      h('h3', {}, hasBiases(c) ? 'Weights and biases' : 'Weights'),
      ...notation.neurons.map((neurons, l) =>
        h(
          'div',
          { class: 'row' },
          ...neurons.flatMap((_, j) => notation.weights[l][j].map((name, i) => field(name, numberInput(edits.weights[l][j][i], (v) => set(() => (edits.weights[l][j][i] = v)), name)))),
          ...biasFields(l),
        ),
      ),
      h('button', { type: 'button', id: 'restore', onclick: () => set(() => ((edits = editsOf(c)), renderEditor())) }, 'Restore the article’s values'),
    );
  };

  const drawingWidth = () => Math.max(300, Math.min(760, network.clientWidth || root.clientWidth || 760));

  const renderTrace = () => {
    const lines = trace?.lines ?? [];
    const shown = lines.slice(0, cursor + 1);
    const line: TraceLine | undefined = lines[cursor];
    const c = workedCase();
    network.replaceChildren(drawNetwork(c.notation, edits, namesIn(line), drawingWidth(), hasBiases(c)));
    const hasGpu = lines.some((l) => l.webgpu !== undefined);
    table.replaceChildren(
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          // The key columns first, so that a phone shows them without scrolling.
          h('th', {}, 'symbol'),
          h('th', {}, 'article'),
          h('th', {}, 'reference (float64)'),
          hasGpu ? h('th', {}, 'webgpu (float32)') : null,
          hasGpu ? h('th', { title: 'the difference, marked ✓ within or ✗ beyond the float32 bound derived for the value' }, '|ref − gpu|') : null,
          hasGpu ? h('th', {}, 'bound') : null,
          h('th', {}, 'section'),
        ),
      ),
      h(
        'tbody',
        {},
        ...shown.map((l, k) =>
          h(
            'tr',
            { class: k === cursor ? 'cursor' : '', 'data-symbol': l.symbol, 'data-row': k },
            h('td', { class: 'symbol', title: l.formula ?? '' }, l.symbol),
            h('td', { class: l.article === undefined ? '' : l.agrees ? 'agrees' : 'disagrees', title: l.erratum ? `erratum: ${erratumAnchor(l.erratum)}` : '' }, l.article === undefined ? '' : `${l.article} ${l.agrees ? '✓' : '✗'}`),
            h('td', { class: 'reference' }, formatNumber(l.reference)),
            hasGpu ? h('td', { class: 'webgpu' }, formatNumber(l.webgpu)) : null,
            hasGpu ? differenceCell(l) : null,
            hasGpu ? h('td', { class: 'bound' }, l.tolerance === undefined ? '–' : l.tolerance.toExponential(1)) : null,
            h('td', {}, l.section),
          ),
        ),
      ),
    );
    // The table follows the current row.
    const row = table.querySelector<HTMLElement>('tr.cursor');
    if (row) tableBox.scrollTop = Math.max(0, row.offsetTop - tableBox.clientHeight / 2);
    current.replaceChildren(
      line
        ? h(
            'div',
            {},
            h('div', { class: 'section-name' }, `${line.section} · ${cursor + 1} of ${lines.length}`),
            h('div', { class: 'big-symbol' }, line.symbol),
            line.formula ? h('div', { class: 'formula', id: 'formula' }, line.formula) : null,
            h(
              'div',
              { class: 'side-by-side' },
              h('span', {}, 'article ', h('b', {}, line.article ?? '—')),
              h('span', {}, 'reference ', h('b', {}, formatNumber(line.reference))),
              h('span', {}, 'webgpu ', h('b', {}, line.webgpu === undefined ? '—' : formatNumber(line.webgpu))),
              line.difference !== undefined
                ? h(
                    'span',
                    { id: 'current-difference' },
                    '|ref − gpu| ',
                    h('b', {}, line.difference.toExponential(1)),
                    line.tolerance === undefined ? ' (no float32 bound is derived for this value)' : line.withinTolerance ? ` ≤ ${line.tolerance.toExponential(1)} ✓` : ` > ${line.tolerance.toExponential(1)} ✗ beyond its float32 bound`,
                  )
                : null,
            ),
            line.erratum
              ? h(
                  'div',
                  { class: 'erratum', id: 'erratum' },
                  h('b', {}, `The article prints ${line.article}; exact arithmetic gives ${formatNumber(line.reference)}. `),
                  erratumEntry(erratumAnchor(line.erratum)),
                  h('a', { href: erratumLink(erratumAnchor(line.erratum)), target: '_blank', id: 'erratum-link' }, `docs/errata.md#${erratumAnchor(line.erratum)}`),
                )
              : null,
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
      status.textContent = `${result.lines.length} values. Step through them (buttons, or the arrow keys), or show them all.`;
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

  const move = (by: number) => {
    showAll = false;
    cursor = Math.max(0, Math.min((trace?.lines.length ?? 1) - 1, cursor + by));
    renderTrace();
  };
  const showEverything = () => {
    showAll = true;
    cursor = (trace?.lines.length ?? 1) - 1;
    renderTrace();
  };
  const keys = (event: KeyboardEvent) => {
    const target = event.target as HTMLElement;
    if (event.altKey || event.ctrlKey || event.metaKey || ['INPUT', 'TEXTAREA'].includes(target.tagName)) return;
    // On a picker ← and → step through the trace, as everywhere on the page; ↑ and ↓ choose, as in any select.
    if (target.tagName === 'SELECT' && event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, Home: -Infinity } as Record<string, number>;
    if (event.key in step) move(step[event.key]);
    else if (event.key === 'End') showEverything();
    else return;
    event.preventDefault();
  };
  document.addEventListener('keydown', keys);
  const resize = new ResizeObserver(() => renderTrace());
  resize.observe(network);
  const exported = (): ExampleTrace => ({ example: example.name, article: example.article, title: example.title, author: example.author, adapter: gpu?.adapter, cases: trace ? [trace] : [] });

  root.append(
    h(
      'section',
      { class: 'explorer' },
      h('h2', {}, 'Worked examples'),
      h('p', { class: 'lede' }, 'One training step of each article’s example, value by value, in the article’s notation: its formula with the numbers filled in, the article’s number, the float64 reference and WebGPU.'),
      h('div', { class: 'row' }, field('example', picker), field('case', casePicker)),
      status,
      network,
      h(
        'div',
        { class: 'row controls' },
        h('button', { type: 'button', id: 'first', onclick: () => move(-Infinity) }, '« First'),
        h('button', { type: 'button', id: 'previous', onclick: () => move(-1) }, '◀ Previous'),
        h('button', { type: 'button', id: 'next', class: 'primary', onclick: () => move(1) }, 'Next ▶'),
        h('button', { type: 'button', id: 'show-all', onclick: showEverything }, 'Show all'),
        h('span', { class: 'keys' }, h('kbd', {}, '←'), ' ', h('kbd', {}, '→'), ' step, ', h('kbd', {}, 'Home'), ' ', h('kbd', {}, 'End')),
      ),
      current,
      h('p', { class: 'hint narrow-only', id: 'trace-hint' }, 'The key columns come first; the table scrolls sideways for the bound and the section.'),
      tableBox,
      h(
        'div',
        { class: 'row controls' },
        h('button', { type: 'button', id: 'export-json', onclick: () => download(`${example.name}-trace.json`, JSON.stringify(exported(), null, 2)) }, 'Export JSON'),
        h('button', { type: 'button', id: 'export-markdown', onclick: () => download(`${example.name}-trace.md`, traceToMarkdown(exported()), 'text/markdown') }, 'Export Markdown'),
      ),
      editor,
    ),
  );
  chooseExample();
  return () => {
    document.removeEventListener('keydown', keys);
    resize.disconnect();
  };
}
