// The training playground: a dataset (XOR, two spirals, circles, the MNIST digits, or a
// CSV file), a network, a loss, an optimizer; training on WebGPU with a live loss and
// accuracy chart, the decision boundary for 2-D data, pause, resume, reset, and save and
// load of the model file the command line reads and writes. It trains through the
// library's Network.fit, one epoch per call: a pause aborts the call in flight, and the
// next call carries on where it stopped.

import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip } from 'chart.js';
import {
  accuracy,
  ACTIVATIONS,
  datasetFromRows,
  InputError,
  LOSSES,
  MODEL_LIMITS,
  modelToJson,
  Network,
  OPTIMIZER_KINDS,
  parseDataCsv,
  parseModelFile,
  syntheticDataset,
  SYNTHETIC_DATASETS,
  type Activation,
  type Dataset,
  type Loss,
  type ModelFile,
  type OptimizerKind,
} from 'webgpu-backprop';
import { download, field, h, select } from './dom.ts';
import type { AppGpu } from './main.ts';
import { loadMnist } from './mnist.ts';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, CategoryScale, Legend, Tooltip);

const DATASETS = [...SYNTHETIC_DATASETS, 'mnist', 'csv'] as const;
type DatasetName = (typeof DATASETS)[number];
/** Rows the accuracy and loss are measured on at most, so that measuring stays cheap. */
const EVALUATION_ROWS = 2000;
const BOUNDARY_GRID = 60;

function parseLayers(text: string): number[] {
  const units = text.split(',').map((part) => part.trim()).filter(Boolean).map(Number);
  if (units.some((u) => !Number.isInteger(u) || u < 1 || u > 4096)) {
    throw new InputError('hidden layers', `expected comma-separated whole numbers of units from 1 to 4096, got ${JSON.stringify(text)}`);
  }
  return units;
}

function positive(input: HTMLInputElement, name: string, integer: boolean): number {
  const value = Number(input.value);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new InputError(name, `expected a positive ${integer ? 'whole number' : 'number'}, got ${JSON.stringify(input.value)}`);
  }
  return value;
}

/** The first `count` rows of a dataset (all of it if smaller). */
function headRows(dataset: Dataset, count: number): Dataset {
  const size = Math.min(count, dataset.size);
  return {
    inputs: dataset.inputs.subarray(0, size * dataset.inputSize),
    targets: dataset.targets.subarray(0, size * dataset.outputSize),
    size,
    inputSize: dataset.inputSize,
    outputSize: dataset.outputSize,
  };
}

export function mount(root: HTMLElement, gpu: AppGpu | undefined): () => void {
  if (!gpu) {
    root.append(h('section', { class: 'playground' }, h('h2', {}, 'Playground'), h('p', { class: 'message' }, 'Training needs WebGPU, which this browser does not offer.')));
    return () => {};
  }

  const datasetSelect = select('dataset', DATASETS, 'xor');
  const csvFile = h('input', { type: 'file', id: 'csv-file', accept: '.csv,text/csv' });
  const csvTargets = h('input', { type: 'text', id: 'csv-targets', placeholder: 'label' });
  const csvFields = h('div', { class: 'row', hidden: true }, field('CSV file', csvFile), field('target columns', csvTargets));
  const layersInput = h('input', { type: 'text', id: 'layers', value: '32,32' });
  const hiddenSelect = select('hidden-activation', ACTIVATIONS.filter((a) => a !== 'softmax'), 'relu');
  const outputSelect = select('output-activation', ACTIVATIONS, 'softmax');
  const lossSelect = select('loss', LOSSES, 'cross-entropy');
  const batchInput = h('input', { type: 'number', id: 'batch-size', value: 16, min: 1, step: 1 });
  const rateInput = h('input', { type: 'number', id: 'learning-rate', value: 0.01, min: 0, step: 'any' });
  const optimizerSelect = select('optimizer', OPTIMIZER_KINDS, 'adam');
  const seedInput = h('input', { type: 'number', id: 'seed', value: 1, min: 0, step: 1 });
  const trainButton = h('button', { type: 'button', id: 'train', class: 'primary' }, 'Train');
  const resetButton = h('button', { type: 'button', id: 'reset' }, 'Reset');
  const saveButton = h('button', { type: 'button', id: 'save' }, 'Save model');
  const loadInput = h('input', { type: 'file', id: 'load', accept: '.json,application/json' });
  const status = h('p', { class: 'status', id: 'status', 'aria-live': 'polite' });
  const errorLine = h('p', { class: 'error', id: 'error', role: 'alert' });
  const notice = h('p', { class: 'notice', id: 'notice', 'aria-live': 'polite' });
  const chartCanvas = h('canvas', { id: 'chart', width: 520, height: 280 });
  const boundary = h('canvas', { id: 'boundary', width: 280, height: 280 });

  let dataset: Dataset | undefined;
  let datasetName: DatasetName = 'xor';
  let network: Network | undefined;
  let running = false;
  let stopped = false;
  let step = 0;
  let lastMeasured = 0;
  let busy: Promise<void> = Promise.resolve();
  /** Aborts the `fit` in flight: a pause, a reset, leaving the page. */
  let pause: AbortController | undefined;

  const chart = new Chart<'line', (number | null)[], number>(chartCanvas, {
    type: 'line',
    data: {
      labels: [],
      datasets: [
        { label: 'loss (batch)', data: [], borderColor: '#c0392b', pointRadius: 0, spanGaps: true, yAxisID: 'loss' },
        { label: 'accuracy', data: [], borderColor: '#2471a3', pointRadius: 0, spanGaps: true, yAxisID: 'accuracy' },
      ],
    },
    options: {
      animation: false,
      responsive: false,
      scales: {
        x: { title: { display: true, text: 'step' } },
        loss: { type: 'logarithmic', position: 'left' },
        accuracy: { position: 'right', min: 0, max: 1 },
      },
    },
  });

  const showError = (error: unknown) => {
    errorLine.textContent = error instanceof Error ? error.message : String(error);
  };

  /** Serializes work on the trainer: a frame, a reset and a load never overlap. */
  const exclusive = (work: () => Promise<void>) => {
    busy = busy.then(work).catch(showError);
    return busy;
  };

  const setRunning = (value: boolean) => {
    running = value;
    trainButton.textContent = running ? 'Pause' : step > 0 ? 'Resume' : 'Train';
    root.dataset.running = String(running);
  };

  async function loadDataset(): Promise<Dataset> {
    const seed = Number(seedInput.value) || 0;
    if (datasetName === 'mnist') return loadMnist();
    if (datasetName === 'csv') {
      const file = csvFile.files?.[0];
      if (!file) throw new InputError('CSV file', 'choose a file first');
      const targets = csvTargets.value.split(',').map((t) => t.trim()).filter(Boolean);
      if (targets.length === 0) throw new InputError('target columns', 'name at least one column of the CSV as the target');
      const rows = parseDataCsv(await file.text(), file.name, targets);
      return datasetFromRows(rows.inputs, rows.targets!);
    }
    return syntheticDataset(datasetName, 300, seed);
  }

  function describeModel(data: Dataset): ModelFile {
    const layers = parseLayers(layersInput.value);
    return {
      inputSize: data.inputSize,
      seed: Number(seedInput.value) || 0,
      layers: [
        ...layers.map((units) => ({ units, activation: hiddenSelect.value as Activation })),
        { units: data.outputSize, activation: outputSelect.value as Activation },
      ],
      loss: lossSelect.value as Loss,
      trainBiases: true,
    };
  }

  async function startNetwork(description: ModelFile, data: Dataset): Promise<void> {
    network?.dispose();
    network = undefined;
    network = await Network.create(description, {
      device: gpu!.keeper,
      onRecover: (message) => (notice.textContent = `${message[0].toUpperCase()}${message.slice(1)}.`),
    });
    dataset = data;
    step = 0;
    chart.data.labels = [];
    for (const series of chart.data.datasets) series.data = [];
    chart.update('none');
    await measure();
  }

  /** The options of every `fit`; the same options continue one run, changed ones start another. */
  function fitOptions(data: Dataset) {
    return {
      epochs: 1,
      batchSize: Math.min(positive(batchInput, 'batch size', true), data.size),
      learningRate: positive(rateInput, 'learning rate', false),
      optimizer: optimizerSelect.value as OptimizerKind,
      seed: Number(seedInput.value) || 0,
      shuffle: true,
    };
  }

  /** Loss and accuracy over (the first rows of) the dataset, and the decision boundary. */
  async function measure(): Promise<void> {
    if (!network || !dataset) return;
    const sample = headRows(dataset, EVALUATION_ROWS);
    const outputs = (await network.predict(sample.inputs)).flat();
    const correct = accuracy(outputs, sample.targets, sample.outputSize);
    const { loss } = await network.evaluate(sample.inputs, sample.targets);
    status.dataset.dataset = datasetName;
    status.dataset.step = String(step);
    status.dataset.loss = String(loss);
    status.dataset.accuracy = String(correct);
    const over = sample.size < dataset.size ? ` (first ${sample.size} of ${dataset.size} samples)` : '';
    status.textContent = `step ${step}: loss ${loss.toPrecision(5)}, accuracy ${(100 * correct).toFixed(1)}%${over}`;
    const labels = chart.data.labels!;
    const [losses, accuracies] = chart.data.datasets.map((series) => series.data);
    if (labels[labels.length - 1] !== step) {
      labels.push(step);
      losses.push(null);
      accuracies.push(null);
    }
    accuracies[accuracies.length - 1] = correct;
    chart.update('none');
    boundary.hidden = dataset.inputSize !== 2;
    if (dataset.inputSize === 2) await drawBoundary();
    lastMeasured = performance.now();
  }

  async function drawBoundary(): Promise<void> {
    if (!network || !dataset) return;
    const G = BOUNDARY_GRID;
    const grid = new Float64Array(G * G * 2);
    for (let y = 0; y < G; y++) {
      for (let x = 0; x < G; x++) {
        grid[2 * (y * G + x)] = -1.1 + (2.2 * (x + 0.5)) / G;
        grid[2 * (y * G + x) + 1] = 1.1 - (2.2 * (y + 0.5)) / G;
      }
    }
    const K = dataset.outputSize;
    const out = (await network.predict(grid)).flat();
    const context = boundary.getContext('2d')!;
    const cell = boundary.width / G;
    for (let k = 0; k < G * G; k++) {
      // How sure the network is of class 1 (the last output), from orange to blue.
      const p = K === 1 ? out[k] : out[k * K + K - 1];
      const shade = Math.max(0, Math.min(1, p));
      context.fillStyle = `rgb(${Math.round(245 - 150 * shade)}, ${Math.round(180 + 20 * shade)}, ${Math.round(120 + 120 * shade)})`;
      context.fillRect((k % G) * cell, Math.floor(k / G) * cell, cell + 1, cell + 1);
    }
    for (let n = 0; n < dataset.size; n++) {
      const x = ((dataset.inputs[2 * n] + 1.1) / 2.2) * boundary.width;
      const y = ((1.1 - dataset.inputs[2 * n + 1]) / 2.2) * boundary.height;
      const label = K === 1 ? dataset.targets[n] : dataset.targets[n * K + K - 1];
      context.fillStyle = label >= 0.5 ? '#1f4e79' : '#b9520f';
      context.beginPath();
      context.arc(x, y, 2.5, 0, 2 * Math.PI);
      context.fill();
    }
  }

  /** One epoch (or what a pause leaves of it), then the chart and, every 400 ms, the measurements. */
  async function frame(): Promise<void> {
    if (!running || stopped || !network || !dataset) return;
    pause = new AbortController();
    let steps = 0;
    let sum = 0;
    const plot = () => {
      if (steps === 0) return;
      chart.data.labels!.push(step);
      chart.data.datasets[0].data.push(sum / steps);
      chart.data.datasets[1].data.push(null);
      steps = 0;
      sum = 0;
    };
    try {
      await network.fit(dataset.inputs, dataset.targets, {
        ...fitOptions(dataset),
        signal: pause.signal,
        callbacks: {
          onBatchEnd: (_, logs) => {
            step = logs.step + 1;
            steps++;
            sum += logs.loss;
            if (steps >= 20) plot();
          },
        },
      });
    } catch (error) {
      setRunning(false);
      throw error;
    }
    plot();
    if (performance.now() - lastMeasured > 400 || !running) await measure();
    else chart.update('none');
  }

  const loop = () => {
    if (stopped) return;
    if (running) exclusive(frame).then(() => requestAnimationFrame(loop));
    else requestAnimationFrame(loop);
  };

  // Stops training at once (a Train clicked right after still counts), then rebuilds in turn.
  const reset = () => {
    setRunning(false);
    pause?.abort();
    return exclusive(async () => {
      errorLine.textContent = '';
      datasetName = datasetSelect.value as DatasetName;
      status.textContent = 'Loading…';
      const data = await loadDataset();
      await startNetwork(describeModel(data), data);
    });
  };

  datasetSelect.addEventListener('change', () => {
    csvFields.hidden = datasetSelect.value !== 'csv';
    const classification = datasetSelect.value !== 'csv';
    if (classification) {
      outputSelect.value = 'softmax';
      lossSelect.value = 'cross-entropy';
    }
    if (datasetSelect.value !== 'csv') reset();
  });
  csvFile.addEventListener('change', reset);
  csvTargets.addEventListener('change', () => {
    if (csvFile.files?.length) reset();
  });
  trainButton.addEventListener('click', () => {
    setRunning(!running);
    if (!running) pause?.abort();
    // On pause, measure once the frame in flight is done: the figures then match the parameters a save writes.
    if (!running) exclusive(measure);
  });
  resetButton.addEventListener('click', reset);
  saveButton.addEventListener('click', () =>
    exclusive(async () => {
      if (!network) return;
      download('model.json', `${JSON.stringify(network.toJSON(), null, 2)}\n`);
    }),
  );
  loadInput.addEventListener('change', () =>
    exclusive(async () => {
      errorLine.textContent = '';
      const file = loadInput.files?.[0];
      loadInput.value = '';
      if (!file || !dataset) return;
      // Checked before reading: a model file may come from anywhere.
      if (file.size > MODEL_LIMITS.fileBytes) throw new InputError(file.name, `the file is ${file.size} bytes; a model file may be ${MODEL_LIMITS.fileBytes}`);
      const loaded = parseModelFile(await file.text(), file.name);
      const last = loaded.spec.layers[loaded.spec.layers.length - 1];
      if (loaded.spec.inputSize !== dataset.inputSize || last.units !== dataset.outputSize) {
        throw new InputError(file.name, `the model takes ${loaded.spec.inputSize} inputs to ${last.units} outputs; this dataset has ${dataset.inputSize} and ${dataset.outputSize}`);
      }
      setRunning(false);
      await startNetwork(modelToJson(loaded), dataset);
      status.textContent = `loaded ${file.name}: ${status.textContent}`;
    }),
  );

  root.append(
    h(
      'section',
      { class: 'playground' },
      h('h2', {}, 'Playground'),
      h('div', { class: 'row' }, field('dataset', datasetSelect), field('hidden layers (units)', layersInput), field('hidden activation', hiddenSelect), field('output activation', outputSelect), field('loss', lossSelect)),
      csvFields,
      h('div', { class: 'row' }, field('batch size', batchInput), field('learning rate', rateInput), field('optimizer', optimizerSelect), field('seed', seedInput)),
      h('div', { class: 'row controls' }, trainButton, resetButton, saveButton, field('load model', loadInput)),
      status,
      notice,
      errorLine,
      h('div', { class: 'row charts' }, chartCanvas, boundary),
    ),
  );
  reset();
  loop();
  return () => {
    stopped = true;
    pause?.abort();
    busy.then(() => network?.dispose());
    chart.destroy();
  };
}
