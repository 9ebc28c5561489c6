// What a curve chart is, for Chart.js: its series, its axes (a loss axis logarithmic while
// every value is above 0, linear otherwise: nothing drawn at a floor), its markers (a dashed
// line where a setting changed or the run diverged), and its points thinned for drawing.
// The charts are drawn in a worker of their own (curve-worker.ts), off the page's thread.

import type { ChartConfiguration, Plugin } from 'chart.js';

export interface Series {
  label: string;
  color: string;
  /** A faint line under the others (the noisy batch loss). */
  faint?: boolean;
  dashed?: boolean;
  /** The right-hand axis (R² beside MAE). */
  right?: boolean;
}

export interface Axes {
  x: string;
  y: string;
  right?: string;
  logarithmic?: boolean;
  range?: [number, number];
}

/** A vertical line across the chart at `x`, labelled. */
export interface ChartMarker {
  x: number;
  label: string;
}

export type CurvePoints = { x: number; y: number }[];

/** An axis label: 0.25, 120, 1e-5. */
function tick(value: number): string {
  const magnitude = Math.abs(value);
  return value === 0 || (magnitude >= 0.01 && magnitude < 1e5) ? String(Number(value.toPrecision(3))) : value.toExponential(0);
}

/** Points a series is drawn with at most: more are thinned to each stretch's lowest and highest (a spike stays). */
const DRAWN_POINTS = 240;

/** A series thinned for drawing: in DRAWN_POINTS / 2 stretches, each one's lowest and highest finite point, in order; a non-finite value stays, a gap. */
export function thinned(points: CurvePoints): CurvePoints {
  if (points.length <= DRAWN_POINTS) return points;
  const stretches = DRAWN_POINTS / 2;
  const kept: CurvePoints = [];
  for (let s = 0; s < stretches; s++) {
    const stretch = points.slice(Math.floor((s * points.length) / stretches), Math.floor(((s + 1) * points.length) / stretches));
    let [low, high] = [stretch[0], stretch[0]];
    for (const p of stretch) {
      if (!Number.isFinite(p.y)) {
        kept.push(p);
        continue;
      }
      if (!(low.y <= p.y)) low = p;
      if (!(high.y >= p.y)) high = p;
    }
    for (const p of low.x <= high.x ? [low, high] : [high, low]) if (Number.isFinite(p.y) && kept.at(-1) !== p) kept.push(p);
  }
  return kept;
}

/** Whether a loss axis must be linear: some value cannot be drawn on a logarithmic one. */
export function needsLinear(points: CurvePoints[]): boolean {
  return points.some((series) => series.some((p) => p.y <= 0));
}

/** Draws the markers: a dashed line each, its label along it. */
export const markerPlugin: Plugin<'line'> = {
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

/** The chart's configuration, before any point. */
export function curveConfig(series: Series[], axes: Axes, devicePixelRatio: number): ChartConfiguration<'line', CurvePoints> {
  return {
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
      // Sized by the page, which says when its box changes.
      responsive: false,
      devicePixelRatio,
      parsing: false,
      normalized: true,
      events: [],
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
  };
}
