// The worker that draws the curve charts (Chart.js on an OffscreenCanvas each): the page
// only posts points, so a chart drawn again never holds up its frames or its clicks.

import { Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement } from 'chart.js';
import { curveConfig, type Axes, type ChartMarker, type CurvePoints, type Series } from './curve-config.ts';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend);

export type CurveMessage =
  | { kind: 'create'; id: number; canvas: OffscreenCanvas; series: Series[]; axes: Axes; width: number; height: number; devicePixelRatio: number }
  | { kind: 'resize'; id: number; width: number; height: number }
  | { kind: 'update'; id: number; points: CurvePoints[]; markers: ChartMarker[]; linear: boolean }
  | { kind: 'destroy'; id: number };

const charts = new Map<number, { chart: Chart<'line', CurvePoints>; canvas: OffscreenCanvas; axes: Axes; ratio: number }>();

function size(entry: { chart: Chart<'line', CurvePoints>; canvas: OffscreenCanvas; ratio: number }, width: number, height: number): void {
  entry.canvas.width = Math.max(1, Math.round(width * entry.ratio));
  entry.canvas.height = Math.max(1, Math.round(height * entry.ratio));
  entry.chart.resize(width, height);
}

self.addEventListener('message', (event: MessageEvent<CurveMessage>) => {
  const message = event.data;
  if (message.kind === 'create') {
    const chart = new Chart(message.canvas as unknown as HTMLCanvasElement, curveConfig(message.series, message.axes, message.devicePixelRatio));
    const entry = { chart, canvas: message.canvas, axes: message.axes, ratio: message.devicePixelRatio };
    charts.set(message.id, entry);
    size(entry, message.width, message.height);
    return;
  }
  const entry = charts.get(message.id);
  if (!entry) return;
  if (message.kind === 'destroy') {
    entry.chart.destroy();
    charts.delete(message.id);
  } else if (message.kind === 'resize') {
    size(entry, message.width, message.height);
  } else {
    const { chart, axes } = entry;
    chart.data.datasets.forEach((dataset, k) => (dataset.data = message.points[k] ?? []));
    if (axes.logarithmic) {
      const y = chart.options.scales!.y!;
      y.type = message.linear ? 'linear' : 'logarithmic';
      (y as { title: { text: string } }).title.text = message.linear ? `${axes.y} (linear: a value ≤ 0)` : axes.y;
    }
    (chart.options.plugins as { markers?: ChartMarker[] }).markers = message.markers;
    chart.update('none');
  }
});
