// Line charts of training curves (Chart.js), sized by their box so they fit a phone.

import { Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip } from 'chart.js';
import { h } from './dom.ts';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip);

/** An axis label: 0.25, 120, 1e-5. */
function tick(value: number): string {
  const magnitude = Math.abs(value);
  return value === 0 || (magnitude >= 0.01 && magnitude < 1e5) ? String(Number(value.toPrecision(3))) : value.toExponential(0);
}

/** The smallest loss a logarithmic axis shows: a batch whose loss rounded to 0 in float32 sits there. */
export const LOG_FLOOR = 1e-10;

export interface Series {
  label: string;
  color: string;
  /** A faint line under the others (the noisy batch loss). */
  faint?: boolean;
  dashed?: boolean;
  /** The right-hand axis (R² beside MAE). */
  right?: boolean;
}

export interface CurveChart {
  element: HTMLElement;
  /** Replaces every series' points ({x, y}). */
  update(points: { x: number; y: number }[][]): void;
  destroy(): void;
}

export function curveChart(id: string, title: string, series: Series[], axes: { x: string; y: string; right?: string; logarithmic?: boolean; range?: [number, number] }): CurveChart {
  const canvas = h('canvas', { id, role: 'img', 'aria-label': title });
  const element = h('figure', { class: 'chart-box' }, h('figcaption', {}, title), h('div', { class: 'chart-canvas' }, canvas));
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
      plugins: { legend: { labels: { boxWidth: 12, font: { size: 11 } } } },
      scales: {
        x: { type: 'linear', min: 0, title: { display: true, text: axes.x }, ticks: { maxTicksLimit: 6 } },
        y: {
          type: axes.logarithmic ? 'logarithmic' : 'linear',
          title: { display: true, text: axes.y },
          min: axes.range?.[0],
          max: axes.range?.[1],
          ticks: { maxTicksLimit: 6, callback: (value) => tick(Number(value)) },
        },
        ...(axes.right ? { right: { type: 'linear' as const, position: 'right' as const, max: 1, title: { display: true, text: axes.right }, grid: { drawOnChartArea: false } } } : {}),
      },
    },
  });
  return {
    element,
    update(points) {
      chart.data.datasets.forEach((dataset, k) => (dataset.data = points[k] ?? []));
      chart.update('none');
    },
    destroy: () => chart.destroy(),
  };
}
