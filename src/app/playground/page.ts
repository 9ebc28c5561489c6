// The playground page: the settings (in the URL), the controls, the live figures, and the
// curves and panels (results.ts). The training itself is the session's (session.ts), in a
// Worker, which outlives the page.

import type { Metric } from 'webgpu-backprop';
import { download, formatDuration, h, progressBar, field } from '../dom.ts';
import type { AppGpu } from '../gpu.ts';
import { configFromQuery, configToQuery, LIVE_SETTINGS, presetChange, sameConfig, type PlaygroundConfig } from './config.ts';
import { dataFields, readForm, settingInputs, showSliders, writeForm } from './form.ts';
import { LOAD_ACCEPT, readModel, SAVE_FORMATS } from './model-files.ts';
import { resultsView } from './results.ts';
import { csvColumns } from './data.ts';
import { PlaygroundSession } from './session.ts';

/** One session for the app's life: the network survives a switch of page. */
let session: PlaygroundSession | undefined;

const METRIC_LABELS: Record<Metric, string> = { accuracy: 'accuracy', mae: 'MAE', r2: 'R²' };
/** The backends in words, for the network's description. */
const BACKEND_WORDS: Record<string, string> = { webgpu: 'WebGPU', wasm: 'WebAssembly', cpu: 'the float64 reference' };

/** The playground's URL for a configuration. */
export function playgroundHash(config: PlaygroundConfig): string {
  return `#playground?${configToQuery(config)}`;
}

/** Sets an element's text where it differs: no style or layout work where nothing changed. */
function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

function percent(value: number | undefined): string {
  return value === undefined ? '–' : `${(100 * value).toFixed(1)}%`;
}

function figure(value: number | undefined): string {
  return value === undefined ? '–' : Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(3) : value.toPrecision(4);
}

export function mount(root: HTMLElement, gpu: AppGpu | undefined, query: string): () => void {
  if (!gpu) {
    root.append(h('section', { class: 'playground' }, h('h2', {}, 'Playground'), h('p', { class: 'message' }, 'Training needs WebGPU, which this browser does not offer.')));
    return () => {};
  }
  const current = (session ??= new PlaygroundSession());

  // Settings.
  const inputs = settingInputs(current.config);
  const csvFile = h('input', { type: 'file', id: 'csv-file', accept: '.csv,text/csv' });
  const csvName = h('span', { class: 'file-name', id: 'csv-name' });
  const data = dataFields(inputs, csvFile, csvName);
  const layout = () => data.layout(current.csv?.name);
  const show = (config: PlaygroundConfig) => {
    writeForm(inputs, config);
    layout();
  };

  const showUrl = () => {
    const hash = playgroundHash(current.config);
    if (location.hash !== hash) history.replaceState(null, '', hash);
    document.querySelector('nav a[data-page="playground"]')?.setAttribute('href', hash);
  };

  /** Applies the form (or, `reset`, builds the network afresh from it); a setting that cannot be read is refused, saying why. */
  const applyForm = async (reset = false) => {
    const read = readForm(inputs, current.config);
    for (const input of Object.values(inputs)) input.removeAttribute('aria-invalid');
    current.reportLink('');
    if ('problem' in read) {
      inputs[read.key].setAttribute('aria-invalid', 'true');
      const rebuilds = !(LIVE_SETTINGS as readonly string[]).includes(read.key);
      await current.refuse(`Not applied: ${read.problem}.${rebuilds ? ' There is no network until it is fixed.' : ' Training waits until it is fixed.'}`, rebuilds);
      return;
    }
    await (reset ? current.reset(read.config) : current.apply(read.config));
    showUrl();
  };

  /** New data: output and loss go back to auto, to follow it (a loaded model's, or one chosen for other data, may not fit). */
  const followNewData = () => {
    if (inputs.output.value === 'auto' && inputs.loss.value === 'auto') return;
    inputs.output.value = 'auto';
    inputs.loss.value = 'auto';
    current.notice = 'Output and loss are back on auto, to follow the new data.';
  };

  for (const [key, input] of Object.entries(inputs)) {
    input.addEventListener('input', () => showSliders(inputs));
    input.addEventListener('change', () => {
      if (key === 'dataset') {
        // MNIST and CSV start from settings of their own; going back, from the 2-D defaults.
        const chosen = inputs.dataset.value as PlaygroundConfig['dataset'];
        const preset = presetChange(current.config.dataset, chosen);
        if (preset) show({ ...current.config, ...preset, dataset: chosen, layers: [...(preset.layers ?? current.config.layers)] });
        followNewData();
        layout();
      }
      applyForm();
    });
  }
  csvFile.addEventListener('change', async () => {
    const file = csvFile.files?.[0];
    if (!file) return;
    const csv = { name: file.name, text: await file.text() };
    // The target columns follow the file: kept where it has them all, else its last column, as most tools take it.
    const columns = csvColumns(csv);
    const named = inputs.targets.value.split(',').map((t) => t.trim()).filter(Boolean);
    if (named.length === 0 || named.some((t) => !columns.includes(t))) inputs.targets.value = columns.at(-1) ?? '';
    if (current.csv) followNewData();
    const read = readForm(inputs, current.config);
    if ('problem' in read) return applyForm();
    current.reportLink('');
    await current.apply(read.config, csv);
    layout();
    showUrl();
  });

  // Controls: Train/Pause and the steppers stay at hand (a sticky bar on a phone).
  const trainButton = h('button', { type: 'button', id: 'train', class: 'primary' }, 'Train');
  const stepButton = h('button', { type: 'button', id: 'step-1', title: 'one training step' }, 'Step');
  const step10Button = h('button', { type: 'button', id: 'step-10', title: 'ten training steps' }, 'Step 10');
  const resetButton = h('button', { type: 'button', id: 'reset' }, 'Reset');
  const saveButton = h('button', { type: 'button', id: 'save' }, 'Save model');
  const saveFormat = h('select', { id: 'save-format', 'aria-label': 'save as' }, ...SAVE_FORMATS.map((format) => h('option', { value: format.id }, format.label)));
  const loadInput = h('input', { type: 'file', id: 'load', accept: LOAD_ACCEPT, multiple: true, class: 'visually-hidden' });
  const loadButton = h('label', { class: 'button', for: 'load' }, 'Load model…', loadInput);
  trainButton.addEventListener('click', () => (current.phase === 'training' ? current.pause() : current.train()));
  stepButton.addEventListener('click', () => current.stepBy(1));
  step10Button.addEventListener('click', () => current.stepBy(10));
  resetButton.addEventListener('click', () => applyForm(true));
  saveButton.addEventListener('click', async () => {
    if (!current.network) return;
    const format = SAVE_FORMATS.find((f) => f.id === saveFormat.value) ?? SAVE_FORMATS[0]!;
    for (const file of await format.save(current.network, current.config.dataset)) download(file.name, file.contents, file.type);
  });
  loadInput.addEventListener('change', async () => {
    const files = [...(loadInput.files ?? [])];
    loadInput.value = '';
    if (files.length === 0) return;
    try {
      const { worker, ...options } = current.networkOptions;
      const { name, network } = await readModel(files, worker!, options);
      await current.loadModel(name, network);
      show(current.config);
      showUrl();
    } catch (error) {
      current.report((error as Error).message);
    }
  });

  // Figures.
  const progress = progressBar('load-progress');
  const status = h('p', { class: 'status', id: 'status', 'aria-live': 'polite' });
  const figures = h('dl', { class: 'figures', id: 'figures' });
  const architecture = h('p', { class: 'hint', id: 'architecture' });
  const trainsOn = h('p', { class: 'hint', id: 'trains-on' });
  const dataNote = h('p', { class: 'hint', id: 'data-note' });
  const notice = h('p', { class: 'notice', id: 'notice', 'aria-live': 'polite' });
  const linkProblems = h('p', { class: 'error', id: 'link-problems', role: 'alert' });
  const errorLine = h('p', { class: 'error', id: 'error', role: 'alert' });
  const results = h('div', { class: 'results', id: 'results' });
  const extra = h('div', { class: 'extra', id: 'extra' });
  const view = resultsView(current, results, extra);
  let shownFigures: unknown = null;

  const render = () => {
    const phase = current.phase;
    // Pausing is training until its last measurement is in.
    root.dataset.phase = current.pausing ? 'pausing' : phase;
    root.dataset.running = String(phase === 'training');
    root.dataset.stepping = String(current.stepping);
    trainButton.textContent = current.pausing ? 'Pausing…' : phase === 'training' ? 'Pause' : current.step > 0 ? 'Resume' : 'Train';
    trainButton.disabled = phase !== 'training' && !current.canTrain;
    stepButton.disabled = step10Button.disabled = !current.canTrain;
    saveButton.disabled = !current.network;
    resetButton.disabled = phase === 'loading';
    progress.element.hidden = phase !== 'loading';
    if (current.loading) progress.set(current.loading.label, current.loading.fraction);
    setText(errorLine, current.error);
    setText(linkProblems, current.linkProblems);
    setText(notice, current.notice);
    setText(dataNote, current.data?.description ?? '');

    const network = current.network;
    const spec = network?.spec;
    setText(architecture, spec
      ? `Network: ${[spec.inputSize, ...spec.layers.map((l) => `${l.units} ${l.activation}${l.dropout ? ` (dropout ${l.dropout})` : ''}`)].join(' → ')}; loss ${spec.loss}${network?.inputScaling ? '; inputs standardised' : ''}${current.loadedFrom ? `; loaded from ${current.loadedFrom} (weights not in the URL)` : ''}.`
      : '');
    setText(trainsOn, network ? `Trains on ${BACKEND_WORDS[network.backend] ?? network.backend}: ${network.backendReason}.` : '');
    status.dataset.dataset = current.config.dataset;
    status.dataset.architecture = spec ? [spec.inputSize, ...spec.layers.map((l) => l.units)].join('-') : '';
    status.dataset.output = spec ? `${spec.layers[spec.layers.length - 1].activation} ${spec.loss}` : '';
    status.dataset.step = String(current.step);
    const last = current.last;
    for (const key of ['loss', 'accuracy', 'mae', 'r2', 'trainLoss', 'trainAccuracy', 'measuredStep']) delete status.dataset[key];
    if (last && network) {
      status.dataset.loss = String(last.test.loss);
      status.dataset.trainLoss = String(last.train.loss);
      status.dataset.measuredStep = String(last.step);
      if (last.test.accuracy !== undefined) status.dataset.accuracy = String(last.test.accuracy);
      if (last.train.accuracy !== undefined) status.dataset.trainAccuracy = String(last.train.accuracy);
      if (last.test.mae !== undefined) status.dataset.mae = String(last.test.mae);
      if (last.test.r2 !== undefined) status.dataset.r2 = String(last.test.r2);
    }
    setText(
      status,
      phase === 'loading'
        ? 'Preparing…'
        : !network
          ? 'No network.'
          : `${phase === 'training' ? 'Training' : phase === 'failed' ? 'Stopped' : 'Paused'}: step ${current.step}, epoch ${current.epoch.toFixed(2)}, ${phase === 'training' ? `${current.progress.stepsPerSecond.toFixed(0)} steps/s, ` : ''}${formatDuration(current.progress.elapsedMs)} of training.`,
    );
    // The figures change with a measurement only.
    if (shownFigures !== last) {
      shownFigures = last;
      const rows: [string, string, string][] = [];
      if (last && network) {
        const metrics = (Object.keys(METRIC_LABELS) as Metric[]).filter((m) => last.test[m] !== undefined);
        rows.push(['loss', figure(last.train.loss), figure(last.test.loss)]);
        for (const metric of metrics) rows.push([METRIC_LABELS[metric], metric === 'accuracy' ? percent(last.train[metric]) : figure(last.train[metric]), metric === 'accuracy' ? percent(last.test[metric]) : figure(last.test[metric])]);
      }
      figures.replaceChildren(
        ...(rows.length > 0
          ? [h('div', { class: 'figure-head' }, h('dt', {}, ''), h('dd', {}, 'training'), h('dd', {}, 'test')), ...rows.map(([name, train, test]) => h('div', { 'data-figure': name }, h('dt', {}, name), h('dd', {}, train), h('dd', { class: 'test' }, test)))]
          : []),
      );
    }
    view.render();
  };

  let frame = 0;
  const scheduleRender = () => {
    if (frame === 0) frame = requestAnimationFrame(() => ((frame = 0), render()));
  };
  const unsubscribe = current.subscribe(scheduleRender);
  // The clock and the rates move between the worker's messages too.
  const ticker = setInterval(() => current.phase === 'training' && scheduleRender(), 250);

  root.append(
    h(
      'section',
      { class: 'playground' },
      h('h2', {}, 'Playground'),
      h('p', { class: 'lede' }, 'Train a network in a worker beside this tab (on WebGPU, WebAssembly or the float64 reference: auto takes the faster here), watching its training and test figures. Data and network settings build a new network at once; the learning rate, batch size and optimizer apply to the network as it trains, marked on the curves.'),
      h(
        'div',
        { class: 'settings' },
        data.element,
        h(
          'fieldset',
          {},
          h('legend', {}, 'Network'),
          h('div', { class: 'row' }, field('hidden layers (units)', inputs.layers), field('activation', inputs.activation), field('dropout', inputs.dropout), field('output', inputs.output), field('loss', inputs.loss), field('seed', inputs.seed)),
          h('p', { class: 'hint', id: 'layers-help' }, 'Hidden layers as units, comma-separated (8,8); dropout p drops each hidden unit with probability p while training. Output and loss on auto follow the targets: softmax and cross-entropy for classes, sigmoid and binary cross-entropy for one 0/1 column, linear and MSE for numbers.'),
        ),
        h(
          'fieldset',
          {},
          h('legend', {}, 'Training'),
          h('div', { class: 'row' }, field('batch size', inputs.batchSize), field('learning rate', inputs.learningRate), field('schedule', inputs.schedule), field('warmup (steps)', inputs.warmup), field('optimizer', inputs.optimizer), field('L2 weight decay λ', inputs.weightDecay), field('backend', inputs.backend)),
          h(
            'p',
            { class: 'hint', id: 'training-help' },
            'Schedule: none, step:S:G (the rate times G every S steps), exponential:G (times G each step) or cosine:T (to 0 along a half cosine over T steps), after a linear warmup over its steps. Weight decay λ adds λ·w to each gradient, so a step is w ← w − η·(∂E/∂w + λ·w) with SGD; AdamW decays the weights by η·λ·w itself. The ',
            h('a', { href: '#explorer' }, 'worked examples'),
            ' show the term in each update.',
          ),
        ),
      ),
      h('div', { class: 'controls-bar', id: 'controls' }, h('div', { class: 'row controls' }, trainButton, stepButton, step10Button, resetButton)),
      h('div', { class: 'row controls' }, saveButton, saveFormat, loadButton),
      progress.element,
      status,
      figures,
      architecture,
      trainsOn,
      dataNote,
      linkProblems,
      notice,
      errorLine,
      results,
      extra,
    ),
  );

  // The URL's settings, or (none given) the session's: the network carries on where it was.
  if (query) {
    const { config, problems } = configFromQuery(query);
    show(config);
    if (!sameConfig(config, current.config) || !current.network) current.apply(config).then(showUrl);
    else showUrl();
    // Shown until the settings next change: a rebuild does not clear it.
    current.reportLink(problems.length > 0 ? `The link's settings: ${problems.join('; ')}.` : '');
  } else {
    show(current.config);
    if (!current.network && current.phase !== 'loading') current.rebuild();
    showUrl();
  }
  render();

  return () => {
    unsubscribe();
    clearInterval(ticker);
    cancelAnimationFrame(frame);
    view.destroy();
    current.leave();
  };
}
