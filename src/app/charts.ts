// Line charts of training curves (Chart.js), sized by their box so they fit a phone, with
// markers where a setting changed (or the run diverged). A loss axis is logarithmic while
// every value is above 0 and linear otherwise: nothing is drawn at a floor, and a
// non-finite value is a gap in the line with its marker saying what it was.

import { Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip, type Plugin } from 'chart.js';
import { h } from './dom.ts';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip);

/** An axis label: 0.25, 120, 1e-5. */
function tick(value: number): string {
  const magnitude = Math.abs(value);
  return value === 0 || (magnitude >= 0.01 && magnitude < 1e5) ? String(Number(value.toPrecision(3))) : value.toExponential(0);
}

export interface Series {
  label: string;
  color: string;
  /** A faint line under the others (the noisy batch loss). */
  faint?: boolean;
  dashed?: boolean;
  /** The right-hand axis (R² beside MAE). */
  right?: boolean;
}

/** A vertical line across the chart at `x`, labelled. */
export interface ChartMarker {
  x: number;
  label: string;
}

export interface CurveChart {
  element: HTMLElement;
  /** Replaces every series' points ({x, y}) and the markers. */
  update(points: { x: number; y: number }[][], markers?: ChartMarker[]): void;
  destroy(): void;
}

/** Draws the markers: a dashed line each, its label along it. */
const markerPlugin: Plugin<'line'> = {
  id: 'markers',
  afterDatasetsDraw(chart) {
    const markers = (chart.options.plugins as { markers?: ChartMarker[] }).markers ?? [];
    const { ctx, chartArea, scales } = chart;
    ctx.save();
    ctx.strokeStyle = '#6c3483';
    ctx.fillStyle = '#6c3483';
    ctx.setLineDash([4, 3]);
    ctx.font = '10px "DejaVu Sans", sans-serif';
    for (const marker of markers) {
      const x = scales.x.getPixelForValue(marker.x);
      if (!(x >= chartArea.left && x <= chartArea.right)) continue;
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top);
      ctx.lineTo(x, chartArea.bottom);
      ctx.stroke();
      ctx.save();
      ctx.translate(x + 3, chartArea.top + 4);
      ctx.rotate(Math.PI / 2);
      ctx.fillText(marker.label, 0, 0);
      ctx.restore();
    }
    ctx.restore();
  },
};

export function curveChart(id: string, title: string, series: Series[], axes: { x: string; y: string; right?: string; logarithmic?: boolean; range?: [number, number] }): CurveChart {
  const canvas = h('canvas', { id, role: 'img', 'aria-label': title });
  const element = h('figure', { class: 'chart-box', id: `${id}-box` }, h('figcaption', {}, title), h('div', { class: 'chart-canvas' }, canvas));
  const chart = new Chart<'line', { x: number; y: number }[]>(canvas, {
    type: 'line',
    data: {
      datasets: series.map((s) => ({
        label: s.label,
        data: [],
        borderColor: s.color,
        backgroundColor: s.color,
        borderWidth: s.faint ? 1 : 2,
        borderDash: s.dashed ? [5, 3] : undefined,
        pointRadius: 0,
        spanGaps: false,
        yAxisID: s.right ? 'right' : 'y',
        order: s.faint ? 1 : 0,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', intersect: false },
      plugins: { legend: { labels: { boxWidth: 12, font: { size: 11 }, color: '#1c2833' } }, ...({ markers: [] } as object) },
      scales: {
        x: { type: 'linear', min: 0, title: { display: true, text: axes.x, color: '#1c2833' }, ticks: { maxTicksLimit: 6, color: '#1c2833' } },
        y: {
          type: axes.logarithmic ? 'logarithmic' : 'linear',
          title: { display: true, text: axes.y, color: '#1c2833' },
          min: axes.range?.[0],
          max: axes.range?.[1],
          // A label once: a narrow logarithmic range would repeat one.
          ticks: { maxTicksLimit: 6, color: '#1c2833', callback: (value, index, ticks) => (index > 0 && tick(Number(ticks[index - 1].value)) === tick(Number(value)) ? '' : tick(Number(value))) },
        },
        ...(axes.right ? { right: { type: 'linear' as const, position: 'right' as const, max: 1, title: { display: true, text: axes.right, color: '#1c2833' }, grid: { drawOnChartArea: false }, ticks: { color: '#1c2833' } } } : {}),
      },
    },
    plugins: [markerPlugin],
  });
  return {
    element,
    update(points, markers = []) {
      chart.data.datasets.forEach((dataset, k) => (dataset.data = points[k] ?? []));
      if (axes.logarithmic) {
        // Logarithmic only while every value can be drawn on it.
        const linear = points.some((series) => series.some((p) => p.y <= 0));
        const y = chart.options.scales!.y!;
        y.type = linear ? 'linear' : 'logarithmic';
        (y as { title: { text: string } }).title.text = linear ? `${axes.y} (linear: a value ≤ 0)` : axes.y;
        element.dataset.scale = y.type;
      }
      (chart.options.plugins as { markers?: ChartMarker[] }).markers = markers;
      element.dataset.points = points.map((series) => series.length).join(' ');
      element.dataset.markers = markers.map((m) => m.label).join('|');
      chart.update('none');
    },
    destroy: () => chart.destroy(),
  };
}
