// The playground page: the settings (in the URL), the controls, the live figures, the
// training and test curves, and beside them the decision boundary (2-D data), sample
// digits and the confusion matrix (MNIST), or predicted against actual values
// (regression). The training itself is the session's (session.ts), which outlives the page.

import type { Metric } from 'webgpu-backprop';
import { curveChart, LOG_FLOOR, type CurveChart } from '../charts.ts';
import { download, field, formatDuration, h, progressBar } from '../dom.ts';
import type { AppGpu } from '../gpu.ts';
import { configFromQuery, configToQuery, DATASETS, LIVE_SETTINGS, presetChange, sameConfig, type PlaygroundConfig } from './config.ts';
import { readSettings, settingInputs, writeSettings } from './form.ts';
import { outputChoice } from './data.ts';
import { LOAD_ACCEPT, readModel, SAVE_FORMATS } from './model-files.ts';
import { confusionTable, digitSamples, drawBoundary, drawScatter } from './panels.ts';
import { PlaygroundSession } from './session.ts';

/** One session for the app's life: the network survives a switch of page. */
let session: PlaygroundSession | undefined;

const DATASET_LABELS: Record<(typeof DATASETS)[number], string> = { xor: 'XOR', spirals: 'two spirals', circles: 'circle in a ring', mnist: 'MNIST digits', csv: 'CSV file…' };
const METRIC_LABELS: Record<Metric, string> = { accuracy: 'accuracy', mae: 'MAE', r2: 'R²' };

/** The playground's URL for a configuration. */
export function playgroundHash(config: PlaygroundConfig): string {
  return `#playground?${configToQuery(config)}`;
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
  const current = (session ??= new PlaygroundSession(gpu.keeper));

  // Settings.
  const inputs = settingInputs(current.config);
  for (const option of inputs.dataset.options) option.textContent = DATASET_LABELS[option.value as keyof typeof DATASET_LABELS];
  const csvFile = h('input', { type: 'file', id: 'csv-file', accept: '.csv,text/csv' });
  const csvName = h('span', { class: 'file-name', id: 'csv-name' });
  const csvFields = h('div', { class: 'row', id: 'csv-fields' }, field('CSV file', h('span', { class: 'file-pick' }, csvFile, csvName)), field('target column(s)', inputs.targets), field('standardise inputs', inputs.standardize));
  const testField = field('test rows (%)', inputs.testPercent);
  const mnistSplit = h('p', { class: 'hint', id: 'mnist-split' }, 'MNIST: a fixed 10% of each digit held out as the test set.');

  const writeForm = (config: PlaygroundConfig) => {
    writeSettings(inputs, config);
    layout();
  };
  /** Only the dataset's own fields show. */
  const layout = () => {
    const dataset = inputs.dataset.value;
    csvFields.hidden = dataset !== 'csv';
    testField.hidden = dataset === 'mnist';
    mnistSplit.hidden = dataset !== 'mnist';
    // After a page switch the file input is new and empty; the session still has the file.
    csvName.textContent = current.csv && !csvFile.files?.length ? `in use: ${current.csv.name}` : '';
  };

  const readForm = () => readSettings(inputs, current.config);

  const showUrl = () => {
    const hash = playgroundHash(current.config);
    if (location.hash !== hash) history.replaceState(null, '', hash);
    document.querySelector('nav a[data-page="playground"]')?.setAttribute('href', hash);
  };

  /** Applies the form (or, `reset`, builds the network afresh from it); a setting that cannot be read is refused, saying why. */
  const applyForm = async (reset = false) => {
    const read = readForm();
    for (const input of Object.values(inputs)) input.removeAttribute('aria-invalid');
    if ('problem' in read) {
      inputs[read.key].setAttribute('aria-invalid', 'true');
      const rebuilds = !(LIVE_SETTINGS as readonly string[]).includes(read.key);
      await current.refuse(`Not applied: ${read.problem}.${rebuilds ? ' There is no network until it is fixed.' : ' Training waits until it is fixed.'}`, rebuilds);
      return;
    }
    await (reset ? current.reset(read.config) : current.apply(read.config));
    showUrl();
  };

  for (const [key, input] of Object.entries(inputs)) {
    input.addEventListener('change', () => {
      if (key === 'dataset') {
        // MNIST and CSV start from settings of their own; going back, from the 2-D defaults.
        const chosen = inputs.dataset.value as PlaygroundConfig['dataset'];
        const preset = presetChange(current.config.dataset, chosen);
        if (preset) writeForm({ ...current.config, ...preset, dataset: chosen, layers: [...(preset.layers ?? current.config.layers)] });
        layout();
      }
      applyForm();
    });
  }
  csvFile.addEventListener('change', async () => {
    const file = csvFile.files?.[0];
    if (!file) return;
    const text = await file.text();
    // No target named yet: the last column, as most tools take it.
    if (inputs.targets.value.trim() === '') inputs.targets.value = (text.split(/\r?\n/, 1)[0] ?? '').split(',').pop()?.trim().replace(/^"|"$/g, '') ?? '';
    const read = readForm();
    if ('problem' in read) return applyForm();
    await current.apply(read.config, { name: file.name, text });
    layout();
    showUrl();
  });

  // Controls.
  const trainButton = h('button', { type: 'button', id: 'train', class: 'primary' }, 'Train');
  const resetButton = h('button', { type: 'button', id: 'reset' }, 'Reset');
  const saveButton = h('button', { type: 'button', id: 'save' }, 'Save model');
  const saveFormat = h('select', { id: 'save-format', 'aria-label': 'save as' }, ...SAVE_FORMATS.map((format) => h('option', { value: format.id }, format.label)));
  const loadInput = h('input', { type: 'file', id: 'load', accept: LOAD_ACCEPT, multiple: true, class: 'visually-hidden' });
  const loadButton = h('label', { class: 'button', for: 'load' }, 'Load model…', loadInput);
  trainButton.addEventListener('click', () => (current.phase === 'training' ? current.pause() : current.train()));
  resetButton.addEventListener('click', () => applyForm(true));
  saveButton.addEventListener('click', async () => {
    if (!current.network) return;
    const format = SAVE_FORMATS.find((f) => f.id === saveFormat.value) ?? SAVE_FORMATS[0]!;
    for (const file of await format.save(current.network)) download(file.name, file.contents, file.type);
  });
  loadInput.addEventListener('change', async () => {
    const files = [...(loadInput.files ?? [])];
    loadInput.value = '';
    if (files.length === 0) return;
    try {
      const { name, network } = await readModel(files, current.networkOptions);
      await current.loadModel(name, network);
      writeForm(current.config);
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
  const dataNote = h('p', { class: 'hint', id: 'data-note' });
  const notice = h('p', { class: 'notice', id: 'notice', 'aria-live': 'polite' });
  const errorLine = h('p', { class: 'error', id: 'error', role: 'alert' });

  // Curves and panels, made for the kind of data in hand.
  const results = h('div', { class: 'results', id: 'results' });
  const extra = h('div', { class: 'extra', id: 'extra' });
  let charts: { loss: CurveChart; metric?: CurveChart; metrics: Metric[] } | undefined;
  let panel: { canvas?: HTMLCanvasElement; kind: 'boundary' | 'scatter' | 'digits' | 'none' } = { kind: 'none' };
  let shownMeasurement: unknown;
  let builtFor: unknown;

  const buildResults = () => {
    charts?.loss.destroy();
    charts?.metric?.destroy();
    charts = undefined;
    panel = { kind: 'none' };
    shownMeasurement = undefined;
    results.replaceChildren();
    extra.replaceChildren();
    const data = current.data;
    if (!data || !current.network) return;
    const { metrics } = outputChoice(current.config, data);
    const loss = curveChart(
      'loss-chart',
      'Loss',
      [
        { label: 'batch (training)', color: '#d5a6a0', faint: true },
        { label: 'training', color: '#c0392b' },
        { label: 'test', color: '#1c2833', dashed: true },
      ],
      { x: 'epoch', y: 'loss', logarithmic: true },
    );
    let metric: CurveChart | undefined;
    if (metrics.includes('accuracy')) {
      metric = curveChart('metric-chart', 'Accuracy', [{ label: 'training', color: '#2471a3' }, { label: 'test', color: '#1c2833', dashed: true }], { x: 'epoch', y: 'accuracy', range: [0, 1] });
    } else if (metrics.includes('mae')) {
      metric = curveChart(
        'metric-chart',
        'MAE and R²',
        [
          { label: 'MAE training', color: '#2471a3' },
          { label: 'MAE test', color: '#1c2833', dashed: true },
          { label: 'R² test', color: '#27ae60', dashed: true, right: true },
        ],
        { x: 'epoch', y: 'mean absolute error', right: 'R²' },
      );
    }
    charts = { loss, metric, metrics };
    results.append(loss.element);
    if (metric) results.append(metric.element);
    if (data.classNames && data.train.inputSize === 2) {
      const canvas = h('canvas', { id: 'boundary', width: 320, height: 320, role: 'img', 'aria-label': 'decision boundary' });
      results.append(h('figure', { class: 'panel-box' }, h('figcaption', {}, 'Decision boundary (test points ringed)'), canvas));
      panel = { canvas, kind: 'boundary' };
    } else if (data.kind === 'continuous') {
      const canvas = h('canvas', { id: 'scatter', width: 320, height: 320, role: 'img', 'aria-label': 'predicted against actual' });
      results.append(h('figure', { class: 'panel-box' }, h('figcaption', {}, `Test rows: predicted against actual (${data.train.outputSize > 1 ? 'first output' : 'the output'})`), canvas));
      panel = { canvas, kind: 'scatter' };
    } else if (data.images) {
      panel = { kind: 'digits' };
    }
  };

  const render = () => {
    const phase = current.phase;
    root.dataset.phase = phase;
    root.dataset.running = String(phase === 'training');
    trainButton.textContent = phase === 'training' ? 'Pause' : current.step > 0 ? 'Resume' : 'Train';
    trainButton.disabled = phase !== 'training' && !current.canTrain;
    saveButton.disabled = !current.network;
    resetButton.disabled = phase === 'loading';
    progress.element.hidden = phase !== 'loading';
    if (current.loading) progress.set(current.loading.label, current.loading.fraction);
    errorLine.textContent = current.error;
    notice.textContent = current.notice;
    dataNote.textContent = current.data?.description ?? '';

    const network = current.network;
    if (builtFor !== network) {
      builtFor = network;
      buildResults();
    }
    const spec = network?.spec;
    architecture.textContent = spec
      ? `Network: ${[spec.inputSize, ...spec.layers.map((l) => `${l.units} ${l.activation}${l.dropout ? ` (dropout ${l.dropout})` : ''}`)].join(' → ')}; loss ${spec.loss}${current.network?.inputScaling ? '; inputs standardised' : ''}${current.loadedFrom ? `; loaded from ${current.loadedFrom} (weights not in the URL)` : ''}.`
      : '';
    status.dataset.dataset = current.config.dataset;
    status.dataset.architecture = spec ? [spec.inputSize, ...spec.layers.map((l) => l.units)].join('-') : '';
    status.dataset.output = spec ? `${spec.layers[spec.layers.length - 1].activation} ${spec.loss}` : '';
    status.dataset.step = String(current.step);
    const last = current.last;
    for (const key of ['loss', 'accuracy', 'mae', 'r2', 'trainLoss', 'trainAccuracy']) delete status.dataset[key];
    if (last && network) {
      status.dataset.loss = String(last.test.loss);
      status.dataset.trainLoss = String(last.train.loss);
      if (last.test.accuracy !== undefined) status.dataset.accuracy = String(last.test.accuracy);
      if (last.train.accuracy !== undefined) status.dataset.trainAccuracy = String(last.train.accuracy);
      if (last.test.mae !== undefined) status.dataset.mae = String(last.test.mae);
      if (last.test.r2 !== undefined) status.dataset.r2 = String(last.test.r2);
    }
    status.textContent =
      phase === 'loading'
        ? 'Preparing…'
        : !network
          ? 'No network.'
          : `${phase === 'training' ? 'Training' : 'Paused'}: step ${current.step}, epoch ${current.epoch.toFixed(2)}, ${phase === 'training' ? `${current.stepsPerSecond.toFixed(0)} steps/s, ` : ''}${formatDuration(current.elapsedMs)} of training.`;
    const rows: [string, string, string][] = [];
    if (last && network && charts) {
      rows.push(['loss', figure(last.train.loss), figure(last.test.loss)]);
      for (const metric of charts.metrics) rows.push([METRIC_LABELS[metric], metric === 'accuracy' ? percent(last.train[metric]) : figure(last.train[metric]), metric === 'accuracy' ? percent(last.test[metric]) : figure(last.test[metric])]);
    }
    figures.replaceChildren(
      ...(rows.length > 0
        ? [h('div', { class: 'figure-head' }, h('dt', {}, ''), h('dd', {}, 'training'), h('dd', {}, 'test')), ...rows.map(([name, train, test]) => h('div', { 'data-figure': name }, h('dt', {}, name), h('dd', {}, train), h('dd', { class: 'test' }, test)))]
        : []),
    );

    if (charts) {
      const points = (name: keyof typeof current.curves) => current.curves[name].map((p) => ({ x: p.epoch, y: p.value }));
      const floored = (name: keyof typeof current.curves) => points(name).map((p) => ({ x: p.x, y: Math.max(p.y, LOG_FLOOR) }));
      charts.loss.update([floored('batchLoss'), floored('trainLoss'), floored('testLoss')]);
      if (charts.metric) charts.metric.update(charts.metrics.includes('accuracy') ? [points('train_accuracy'), points('test_accuracy')] : [points('train_mae'), points('test_mae'), points('test_r2').map((p) => ({ x: p.x, y: Math.max(p.y, -1) }))]);
    }
    if (last && current.data && shownMeasurement !== last) {
      shownMeasurement = last;
      const data = current.data;
      if (panel.kind === 'boundary' && last.grid) {
        drawBoundary(panel.canvas!, last.grid, data.train, data.test);
        panel.canvas!.dataset.x = last.grid.area.x.join(' ');
        panel.canvas!.dataset.y = last.grid.area.y.join(' ');
      }
      if (panel.kind === 'scatter') drawScatter(panel.canvas!, last.testOutputs, data.test);
      const parts: HTMLElement[] = [];
      if (panel.kind === 'digits') parts.push(h('figure', { class: 'panel-box wide' }, h('figcaption', {}, 'Test digits: the network’s answer (green right, red wrong) and how sure it is'), digitSamples(data.test, last.testOutputs, 24)));
      if (last.confusion && data.classNames && data.classNames.length <= 20) parts.push(h('figure', { class: 'panel-box wide' }, h('figcaption', {}, `Confusion matrix of the ${data.test.size} test rows, and each class’s accuracy`), confusionTable(last.confusion, data.classNames)));
      extra.replaceChildren(...parts);
    }
  };

  let frame = 0;
  const scheduleRender = () => {
    if (frame === 0) frame = requestAnimationFrame(() => ((frame = 0), render()));
  };
  const unsubscribe = current.subscribe(scheduleRender);
  // The clock and the rates move even while a long chunk of steps is on the GPU.
  const ticker = setInterval(() => current.phase === 'training' && scheduleRender(), 250);

  root.append(
    h(
      'section',
      { class: 'playground' },
      h('h2', {}, 'Playground'),
      h('p', { class: 'lede' }, 'Train a network on WebGPU in this tab, watching its training and test figures. Data and network settings build a new network at once; the training settings apply to the network as it trains.'),
      h(
        'div',
        { class: 'settings' },
        h('fieldset', {}, h('legend', {}, 'Data'), h('div', { class: 'row' }, field('dataset', inputs.dataset), testField), mnistSplit, csvFields),
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
          h('div', { class: 'row' }, field('batch size', inputs.batchSize), field('learning rate', inputs.learningRate), field('schedule', inputs.schedule), field('warmup (steps)', inputs.warmup), field('optimizer', inputs.optimizer), field('L2 weight decay λ', inputs.weightDecay)),
          h(
            'p',
            { class: 'hint', id: 'training-help' },
            'Schedule: none, step:S:G (the rate times G every S steps), exponential:G (times G each step) or cosine:T (to 0 along a half cosine over T steps), after a linear warmup over its steps. Weight decay λ adds λ·w to each gradient, so a step is w ← w − η·(∂E/∂w + λ·w) with SGD; AdamW decays the weights by η·λ·w itself. The ',
            h('a', { href: '#explorer' }, 'worked examples'),
            ' show the term in each update.',
          ),
        ),
      ),
      h('div', { class: 'row controls' }, trainButton, resetButton, saveButton, saveFormat, loadButton),
      progress.element,
      status,
      figures,
      architecture,
      dataNote,
      notice,
      errorLine,
      results,
      extra,
    ),
  );

  // The URL's settings, or (none given) the session's: the network carries on where it was.
  if (query) {
    const { config, problems } = configFromQuery(query);
    writeForm(config);
    if (!sameConfig(config, current.config) || !current.network) current.apply(config).then(showUrl);
    else showUrl();
    if (problems.length > 0) current.report(`The link's settings: ${problems.join('; ')}.`);
  } else {
    writeForm(current.config);
    if (!current.network && current.phase !== 'loading') current.rebuild();
    showUrl();
  }
  render();

  return () => {
    unsubscribe();
    clearInterval(ticker);
    cancelAnimationFrame(frame);
    charts?.loss.destroy();
    charts?.metric?.destroy();
    current.leave();
  };
}
