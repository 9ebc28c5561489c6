// The MNIST panels: sample test digits with the network's answers, a gallery of the test
// digits it gets wrong (most or least sure first), and a box to draw a digit in, which the
// network reads as it is drawn. A drawn digit is made like MNIST's own: its ink fitted
// into 20 × 20 pixels and centred by its centre of mass in 28 × 28.

import { predictedClasses, type Dataset } from 'webgpu-backprop/trainers';
import { h } from '../dom.ts';

const SIDE = 28;

/** A 28 × 28 canvas of a digit's pixels (in [0, 1], ink dark), with its description for a screen reader. */
function digitCanvas(pixels: ArrayLike<number>, offset: number, label: string): HTMLCanvasElement {
  const canvas = h('canvas', { width: SIDE, height: SIDE, class: 'digit', role: 'img', 'aria-label': label });
  const context = canvas.getContext('2d')!;
  const image = context.createImageData(SIDE, SIDE);
  for (let p = 0; p < SIDE * SIDE; p++) {
    const level = 255 - Math.round(255 * pixels[offset + p]);
    image.data.set([level, level, level, 255], 4 * p);
  }
  context.putImageData(image, 0, 0);
  return canvas;
}

/** Sets an element's text where it differs (no style work where nothing changed). */
function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

/** A digit's figure: its canvas, and a caption of the network's answer. */
function digitFigure(test: Dataset, n: number): { figure: HTMLElement; canvas: HTMLCanvasElement; caption: HTMLElement; sure: HTMLElement } {
  const canvas = digitCanvas(test.inputs, n * SIDE * SIDE, '');
  const sure = h('small', {});
  const caption = h('span', {});
  const figure = h('figure', { class: 'sample' }, canvas, h('figcaption', {}, caption, ' ', sure));
  return { figure, canvas, caption, sure };
}

/** Shows the network's answer for test row `n` on its figure. */
function showAnswer(parts: ReturnType<typeof digitFigure>, actual: number, predicted: number, sureness: number, withActual: boolean): void {
  const right = predicted === actual;
  const sure = Math.round(100 * sureness);
  parts.figure.className = `sample ${right ? 'right' : 'wrong'}`;
  parts.figure.dataset.actual = String(actual);
  parts.figure.dataset.predicted = String(predicted);
  parts.figure.dataset.sureness = String(sureness);
  parts.canvas.setAttribute('aria-label', `a ${actual}, read as ${predicted} (${sure}% sure)${right ? '' : ': wrong'}`);
  setText(parts.caption, String(predicted));
  setText(parts.sure, withActual ? `${sure}% · is ${actual}` : `${sure}%`);
}

/** Test digits (an even spread over the test rows, which come in digit order) with the network's answer: right in green, wrong in red. */
export function digitSamples(test: Dataset, count: number): { element: HTMLElement; update(outputs: Float64Array): void } {
  const rows = Array.from({ length: count }, (_, k) => Math.floor(((k + 0.5) * test.size) / count));
  const actual = predictedClasses(test.targets, test.outputSize);
  const figures = rows.map((n) => digitFigure(test, n));
  return {
    element: h('div', { class: 'samples', id: 'samples' }, ...figures.map((f) => f.figure)),
    update(outputs) {
      const predicted = predictedClasses(outputs, test.outputSize);
      rows.forEach((n, k) => showAnswer(figures[k], actual[n], predicted[n], outputs[n * test.outputSize + predicted[n]], false));
    },
  };
}

export type GalleryOrder = 'most-sure' | 'least-sure';
/** Digits the gallery shows at most. */
const GALLERY_SIZE = 40;

/** The test digits the network gets wrong, most (or least) sure first, with how many there are; each digit's canvas is drawn once. */
export function misclassified(test: Dataset): { element: HTMLElement; update(outputs: Float64Array, order: GalleryOrder): void } {
  const K = test.outputSize;
  const actual = predictedClasses(test.targets, K);
  const drawn = new Map<number, ReturnType<typeof digitFigure>>();
  const count = h('p', { class: 'hint' });
  const list = h('div', { class: 'samples' });
  const element = h('div', { class: 'gallery', id: 'gallery' }, count, list);
  return {
    element,
    update(outputs, order) {
      const predicted = predictedClasses(outputs, K);
      const sureness = (n: number) => outputs[n * K + predicted[n]];
      const wrong = Array.from({ length: test.size }, (_, n) => n).filter((n) => predicted[n] !== actual[n]);
      wrong.sort((a, b) => (order === 'most-sure' ? sureness(b) - sureness(a) : sureness(a) - sureness(b)));
      element.dataset.wrong = String(wrong.length);
      setText(count, `${wrong.length} of ${test.size} test digits wrong${wrong.length > GALLERY_SIZE ? `; the ${GALLERY_SIZE} ${order === 'most-sure' ? 'most' : 'least'} sure shown` : ''}.`);
      const shown = wrong.slice(0, GALLERY_SIZE).map((n) => {
        const parts = drawn.get(n) ?? drawn.set(n, digitFigure(test, n)).get(n)!;
        showAnswer(parts, actual[n], predicted[n], sureness(n), true);
        return parts.figure;
      });
      if (shown.length !== list.children.length || shown.some((figure, k) => list.children[k] !== figure)) list.replaceChildren(...shown);
    },
  };
}

/**
 * A drawn digit as MNIST's are: the ink (a canvas of dark strokes on white) fitted into
 * 20 × 20 pixels, then placed in 28 × 28 with its centre of mass at the centre. Pixels in
 * [0, 1], ink 1; undefined where nothing is drawn.
 */
export function digitFromDrawing(canvas: HTMLCanvasElement): Float64Array | undefined {
  const { width, height } = canvas;
  const ink = canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
  let [left, top, right, bottom] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[4 * (y * width + x)] < 200) [left, top, right, bottom] = [Math.min(left, x), Math.min(top, y), Math.max(right, x), Math.max(bottom, y)];
    }
  }
  if (right < 0) return undefined;
  const [w, hgt] = [right - left + 1, bottom - top + 1];
  const scale = 20 / Math.max(w, hgt);
  const small = h('canvas', { width: SIDE, height: SIDE });
  const context = small.getContext('2d', { willReadFrequently: true })!;
  context.fillStyle = 'white';
  context.fillRect(0, 0, SIDE, SIDE);
  context.imageSmoothingQuality = 'high';
  const [sw, sh] = [Math.max(1, Math.round(w * scale)), Math.max(1, Math.round(hgt * scale))];
  context.drawImage(canvas, left, top, w, hgt, (SIDE - sw) / 2, (SIDE - sh) / 2, sw, sh);
  const gray = context.getImageData(0, 0, SIDE, SIDE).data;
  const boxed = Float64Array.from({ length: SIDE * SIDE }, (_, p) => 1 - gray[4 * p] / 255);
  // The centre of mass to the centre, by whole pixels.
  let [mass, mx, my] = [0, 0, 0];
  boxed.forEach((v, p) => {
    mass += v;
    mx += v * (p % SIDE);
    my += v * Math.floor(p / SIDE);
  });
  const [dx, dy] = [Math.round(13.5 - mx / mass), Math.round(13.5 - my / mass)];
  const centred = new Float64Array(SIDE * SIDE);
  boxed.forEach((v, p) => {
    const [x, y] = [(p % SIDE) + dx, Math.floor(p / SIDE) + dy];
    if (x >= 0 && x < SIDE && y >= 0 && y < SIDE) centred[y * SIDE + x] = v;
  });
  return centred;
}

/** The box to draw a digit in; `read` is asked for the network's outputs (10) for the digit as drawn. */
export function drawBox(read: (pixels: Float64Array) => Promise<number[] | undefined>): HTMLElement {
  const canvas = h('canvas', { width: 280, height: 280, id: 'draw', class: 'draw', role: 'img', 'aria-label': 'a box to draw a digit in with the mouse, a finger or a pen' });
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  const clear = () => {
    context.fillStyle = 'white';
    context.fillRect(0, 0, canvas.width, canvas.height);
  };
  clear();
  const answer = h('p', { class: 'draw-answer', id: 'draw-answer', 'aria-live': 'polite' }, 'Draw a digit in the box.');
  const bars = h('div', { class: 'draw-bars', id: 'draw-bars' });
  let reading = false;
  let again = false;
  /** Reads the digit as it stands; one read at a time, the latest drawing last. */
  const update = async () => {
    if (reading) return void (again = true);
    const pixels = digitFromDrawing(canvas);
    if (!pixels) {
      answer.textContent = 'Draw a digit in the box.';
      bars.replaceChildren();
      delete answer.dataset.digit;
      return;
    }
    reading = true;
    try {
      const outputs = await read(pixels);
      if (!outputs) return;
      const best = outputs.indexOf(Math.max(...outputs));
      answer.dataset.digit = String(best);
      answer.textContent = `The network reads a ${best} (${Math.round(100 * outputs[best])}% sure).`;
      bars.replaceChildren(...outputs.map((p, k) => h('div', { class: k === best ? 'bar best' : 'bar', 'data-digit': k }, h('span', {}, String(k)), h('meter', { min: 0, max: 1, value: p, 'aria-label': `${k}: ${Math.round(100 * p)}%` }))));
    } finally {
      reading = false;
      if (again) {
        again = false;
        void update();
      }
    }
  };
  let last: { x: number; y: number } | undefined;
  const at = (event: PointerEvent) => {
    const box = canvas.getBoundingClientRect();
    return { x: ((event.clientX - box.left) * canvas.width) / box.width, y: ((event.clientY - box.top) * canvas.height) / box.height };
  };
  canvas.addEventListener('pointerdown', (event) => {
    canvas.setPointerCapture(event.pointerId);
    last = at(event);
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!last) return;
    const point = at(event);
    context.strokeStyle = 'black';
    context.lineWidth = 22;
    context.lineCap = 'round';
    context.beginPath();
    context.moveTo(last.x, last.y);
    context.lineTo(point.x, point.y);
    context.stroke();
    last = point;
    void update();
  });
  const end = () => {
    last = undefined;
    void update();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  const clearButton = h('button', { type: 'button', id: 'draw-clear' }, 'Clear');
  clearButton.addEventListener('click', () => {
    clear();
    void update();
  });
  return h('div', { class: 'draw-box' }, canvas, h('div', { class: 'draw-side' }, answer, bars, clearButton));
}
