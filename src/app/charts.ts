// Line charts of training curves, sized by their box so they fit a phone, drawn by Chart.js
// in a worker (curve-worker.ts) on each canvas's OffscreenCanvas: the page's thread only
// posts the points (thinned for drawing), the markers and the box's size.

import { h } from './dom.ts';
import { needsLinear, thinned, type Axes, type ChartMarker, type CurvePoints, type Series } from './curve-config.ts';
import type { CurveMessage } from './curve-worker.ts';

export type { ChartMarker, Series };

export interface CurveChart {
  element: HTMLElement;
  /** Replaces every series' points ({x, y}) and the markers. */
  update(points: CurvePoints[], markers?: ChartMarker[]): void;
  destroy(): void;
}

let worker: Worker | undefined;
let nextId = 1;
const post = (message: CurveMessage, transfer: Transferable[] = []) => {
  worker ??= new Worker(new URL('./curve-worker.ts', import.meta.url), { type: 'module', name: 'curves' });
  worker.postMessage(message, transfer);
};

export function curveChart(id: string, title: string, series: Series[], axes: Axes): CurveChart {
  const canvas = h('canvas', { id, role: 'img', 'aria-label': title });
  const box = h('div', { class: 'chart-canvas' }, canvas);
  const element = h('figure', { class: 'chart-box', id: `${id}-box` }, h('figcaption', {}, title), box);
  const chart = nextId++;
  const offscreen = canvas.transferControlToOffscreen();
  let created = false;
  let last: Extract<CurveMessage, { kind: 'update' }> | undefined;
  // The chart is made once its box has a size, and sized again whenever the box changes.
  const resize = new ResizeObserver(([entry]) => {
    const { width, height } = entry.contentRect;
    if (width === 0 || height === 0) return;
    if (!created) {
      created = true;
      post({ kind: 'create', id: chart, canvas: offscreen, series, axes, width, height, devicePixelRatio: window.devicePixelRatio || 1 }, [offscreen]);
      if (last) post(last);
    } else post({ kind: 'resize', id: chart, width, height });
  });
  resize.observe(box);
  return {
    element,
    update(points, markers = []) {
      const linear = Boolean(axes.logarithmic) && needsLinear(points);
      last = { kind: 'update', id: chart, points: points.map(thinned), markers, linear };
      if (created) post(last);
      if (axes.logarithmic) element.dataset.scale = linear ? 'linear' : 'logarithmic';
      element.dataset.points = points.map((s) => s.length).join(' ');
      element.dataset.markers = markers.map((m) => m.label).join('|');
    },
    destroy() {
      resize.disconnect();
      if (created) post({ kind: 'destroy', id: chart });
    },
  };
}
