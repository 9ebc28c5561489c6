// What the playground draws of a network: the loss curve (the batch losses a point a chunk,
// the measured training and test losses, markers where a setting changed) and the metric's,
// and beside them the kind of data's own panels: for a 2-D classifier the decision boundary
// and the network drawn with each neuron's map of the plane; for a regression predicted
// against actual; for MNIST sample digits, the misclassified ones, a box to draw a digit in,
// and the confusion matrix.

import type { Metric } from 'webgpu-backprop';
import { curveChart, type CurveChart } from '../charts.ts';
import { h } from '../dom.ts';
import { outputChoice } from './data.ts';
import { digitSamples, drawBox, misclassified, type GalleryOrder } from './digits.ts';
import { withFeatures } from './features.ts';
import { neuronMaps, type NeuronMaps } from './neuron-maps.ts';
import { confusionTable, drawBoundary, drawScatter, gridInputs } from './panels.ts';
import type { PlaygroundSession } from './session.ts';

type Panel =
  | { kind: 'boundary'; canvas: HTMLCanvasElement; maps: NeuronMaps }
  | { kind: 'scatter'; canvas: HTMLCanvasElement }
  | { kind: 'digits'; samples: ReturnType<typeof digitSamples>; gallery: ReturnType<typeof misclassified> }
  | { kind: 'none' };

/** The curves are drawn again at most this often while training: a chunk's losses come ten times a second, and the page has better things to do. */
const CHART_MS = 400;

export interface ResultsView {
  /** Draws what changed since the last call. */
  render(): void;
  destroy(): void;
}

export function resultsView(session: PlaygroundSession, results: HTMLElement, extra: HTMLElement): ResultsView {
  // Work for later tasks, one piece a task, in order.
  const pending: (() => void)[] = [];
  let pendingTimer: ReturnType<typeof setTimeout> | undefined;
  const later = (work: () => void) => {
    pending.push(work);
    const next = () => {
      pendingTimer = undefined;
      pending.shift()?.();
      if (pending.length > 0) pendingTimer = setTimeout(next, 0);
    };
    pendingTimer ??= setTimeout(next, 0);
  };
  let charts: { loss: CurveChart; metric?: CurveChart; metrics: Metric[] } | undefined;
  let panel: Panel = { kind: 'none' };
  let shownMeasurement: unknown;
  let builtFor: unknown;
  let order: GalleryOrder = 'most-sure';
  let confusion: ReturnType<typeof confusionTable> | undefined;
  let chartsDrawn = -Infinity;
  let chartTimer: ReturnType<typeof setTimeout> | undefined;

  const destroyCharts = () => {
    charts?.loss.destroy();
    charts?.metric?.destroy();
    charts = undefined;
  };

  const build = () => {
    destroyCharts();
    panel = { kind: 'none' };
    confusion = undefined;
    shownMeasurement = undefined;
    results.replaceChildren();
    extra.replaceChildren();
    const data = session.data;
    const network = session.network;
    if (!data || !network) return;
    const { metrics } = outputChoice(session.config, data);
    const loss = curveChart(
      'loss-chart',
      'Loss',
      [
        { label: 'batch (training)', color: '#b0655c', faint: true },
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
          { label: 'R² test', color: '#1e8449', dashed: true, right: true },
        ],
        { x: 'epoch', y: 'mean absolute error', right: 'R²' },
      );
    }
    charts = { loss, metric, metrics };
    results.append(loss.element);
    if (metric) results.append(metric.element);
    if (data.classNames && data.points) {
      const canvas = h('canvas', { id: 'boundary', width: 320, height: 320, role: 'img', 'aria-label': 'decision boundary' });
      results.append(h('figure', { class: 'panel-box' }, h('figcaption', {}, 'Decision boundary (test points ringed)'), canvas));
      const maps = neuronMaps(network.spec, data.inputNames);
      extra.append(h('figure', { class: 'panel-box wide' }, h('figcaption', {}, 'The network: each neuron’s output over the plane (orange below zero, blue above)'), maps.element));
      panel = { kind: 'boundary', canvas, maps };
    } else if (data.kind === 'continuous') {
      const canvas = h('canvas', { id: 'scatter', width: 320, height: 320, role: 'img', 'aria-label': 'predicted against actual' });
      results.append(h('figure', { class: 'panel-box' }, h('figcaption', {}, `Test rows: predicted against actual (${data.train.outputSize > 1 ? 'first output' : 'the output'})`), canvas));
      panel = { kind: 'scatter', canvas };
    } else if (data.images) {
      const sort = h('select', { id: 'gallery-order', 'aria-label': 'order of the misclassified digits' }, h('option', { value: 'most-sure' }, 'most sure first'), h('option', { value: 'least-sure' }, 'least sure first'));
      sort.addEventListener('change', () => {
        order = sort.value as GalleryOrder;
        shownMeasurement = undefined;
        render();
      });
      const read = async (pixels: Float64Array) => (session.network === network ? (await network.predict([Array.from(pixels)]))[0] : undefined);
      const samples = digitSamples(data.test, 24);
      const gallery = misclassified(data.test);
      extra.append(
        h('figure', { class: 'panel-box wide' }, h('figcaption', {}, 'Draw a digit: the network reads it as you draw'), drawBox(read)),
        h('figure', { class: 'panel-box wide' }, h('figcaption', {}, 'Test digits: the network’s answer (green right, red wrong) and how sure it is'), samples.element),
        h('figure', { class: 'panel-box wide' }, h('figcaption', {}, 'Test digits the network gets wrong, by how sure it is: ', sort), gallery.element),
      );
      panel = { kind: 'digits', samples, gallery };
    }
    if (data.classNames && data.classNames.length <= 20) {
      confusion = confusionTable(data.classNames);
      extra.append(h('figure', { class: 'panel-box wide', id: 'confusion-box' }, h('figcaption', {}, `Confusion matrix of the ${data.test.size} test rows, and each class’s accuracy`), confusion.element));
    }
  };

  /** Draws the curves, the metric's a task after the loss's: no one task of the page's is long. */
  const drawCharts = () => {
    if (!charts) return;
    chartsDrawn = performance.now();
    const points = (name: keyof typeof session.progress.curves) => session.progress.curves[name].map((p) => ({ x: p.epoch, y: p.value }));
    const markers = session.progress.markers.map((m) => ({ x: m.epoch, label: m.label }));
    charts.loss.update([points('batchLoss'), points('trainLoss'), points('testLoss')], markers);
    const drawn = charts;
    later(() => {
      if (charts !== drawn || !drawn.metric) return;
      drawn.metric.update(drawn.metrics.includes('accuracy') ? [points('train_accuracy'), points('test_accuracy')] : [points('train_mae'), points('test_mae'), points('test_r2').map((p) => ({ x: p.x, y: Math.max(p.y, -1) }))], markers);
    });
  };

  const render = () => {
    const network = session.network;
    if (builtFor !== network) {
      builtFor = network;
      build();
    }
    // While training, the curves at most every CHART_MS (the last call's state drawn in the end); else at once.
    const wait = session.phase === 'training' ? chartsDrawn + CHART_MS - performance.now() : 0;
    if (wait <= 0) drawCharts();
    else chartTimer ??= setTimeout(() => {
      chartTimer = undefined;
      drawCharts();
    }, wait);
    const last = session.last;
    const data = session.data;
    if (!last || !data || shownMeasurement === last) return;
    shownMeasurement = last;
    // Each panel in a task of its own.
    const shown = panel;
    if (shown.kind === 'boundary' && last.grid && data.points) {
      const { grid, neurons } = last;
      later(() => {
        drawBoundary(shown.canvas, grid, { points: data.points!.train, targets: data.train.targets }, { points: data.points!.test, targets: data.test.targets });
        shown.canvas.dataset.x = grid.area.x.join(' ');
        shown.canvas.dataset.y = grid.area.y.join(' ');
      });
      later(() => shown.maps.draw(grid.size, withFeatures(gridInputs(grid.area, grid.size), data.features ?? []), neurons ?? [], grid.outputs));
    }
    if (shown.kind === 'scatter') later(() => drawScatter(shown.canvas, last.testOutputs, data.test));
    if (shown.kind === 'digits') {
      later(() => shown.samples.update(last.testOutputs));
      later(() => shown.gallery.update(last.testOutputs, order));
    }
    const table = confusion;
    if (last.confusion && table) later(() => table.update(last.confusion!));
    // Said once the whole measurement is drawn.
    later(() => (results.dataset.drawnStep = String(last.step)));
  };

  return {
    render,
    destroy: () => {
      clearTimeout(chartTimer);
      clearTimeout(pendingTimer);
      pending.length = 0;
      destroyCharts();
    },
  };
}
