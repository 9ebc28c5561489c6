// The options a network is made and asked with (`create`, `fromJSON`, `import`, `predict`,
// `evaluate`), the keys each takes, and what their values mean (the layers `predict`
// returns, the weight files `import` reads): the vocabulary the worker's client
// (worker/client.ts) speaks too, kept apart from the class that acts on it.

import { asText, InputError } from './errors.ts';
import type { DeviceKeeper } from './gpu/device.ts';
import type { GpuTrainerOptions, KernelPath } from './gpu/trainer.ts';
import type { Loss } from './model/model.ts';
import { optionKeys } from './option-keys.ts';
import type { Metric } from './train/metrics.ts';

/**
 * Where a network trains: WebGPU; WebAssembly (float32, SIMD, worker threads); the float64
 * reference; or (`auto`) whichever of WebGPU and WebAssembly is faster for this network
 * on this machine, by speeds measured once and kept.
 */
export type BackendChoice = 'webgpu' | 'wasm' | 'cpu' | 'auto';

/** The backends a network runs on. */
export type BackendName = 'webgpu' | 'wasm' | 'cpu';

export const BACKEND_CHOICES: readonly BackendChoice[] = ['webgpu', 'wasm', 'cpu', 'auto'];

/** How a network is made: its backend, its device, its initial weights. */
export interface NetworkOptions {
  /**
   * Default `auto`: WebGPU or WebAssembly, whichever is faster for this network here (by
   * speeds measured once per adapter and kept: in localStorage, or in Node a file);
   * WebAssembly where there is no adapter. `backendReason` gives the figures.
   */
  backend?: BackendChoice | undefined;
  /**
   * WebAssembly: threads that share each large product and element-wise step (default:
   * the CPU's cores, at most 8, where workers with shared memory can run: in Node, and
   * in a cross-origin-isolated page).
   */
  threads?: number;
  /**
   * A device to run on instead of one the network opens (and reopens if lost) itself: a
   * GPUDevice (its loss ends training with DeviceLostError), or a DeviceKeeper shared with
   * other work (training survives the loss of its device). The network never destroys it.
   */
  device?: GPUDevice | DeviceKeeper | undefined;
  /** Told when a lost device has been replaced and training resumes from the last checkpoint. */
  onRecover?: ((message: string) => void) | undefined;
  /** Seeds the initial weights of a description without weights (instead of its `seed`, default 1). */
  seed?: number | string | undefined;
  /** Which kernel path runs a step on WebGPU (default `auto`: the fused kernel wherever the network fits it). */
  path?: KernelPath | undefined;
  /**
   * Tile plans by measurement on WebGPU (default `auto`: on a hardware adapter, each large
   * product's candidate plans timed at first use and the fastest kept per adapter, beside
   * `backend: 'auto'`'s measurements); `off` takes the cost model's plans. See GpuTrainerOptions.tune.
   */
  tune?: GpuTrainerOptions['tune'];
  /** Names the description or file in messages (default `model`). */
  source?: string | undefined;
}

/** `Network.import`'s options: the network's, and what the file does not hold itself. */
export interface ImportOptions extends NetworkOptions {
  /**
   * TensorFlow.js: the weight files model.json names, by the path it gives (or by the file's
   * name), or a function that reads one.
   */
  weights?: (Record<string, Uint8Array> | ((path: string) => Uint8Array | Promise<Uint8Array>)) | undefined;
  /** The loss, where the file does not record it (our exports do; else cross-entropy after softmax or sigmoid, the mean squared error otherwise). */
  loss?: Loss | undefined;
  /** Whether the biases train, where the file does not record it (default true; false where a TF.js file's Dense layers have no biases). */
  trainBiases?: boolean | undefined;
  /** Told what the import had to guess, e.g. a loss the file does not record (default: console.warn). */
  onWarning?: ((message: string) => void) | undefined;
}

/** `predict`'s options. */
export interface PredictOptions {
  /**
   * Whose outputs to return: a layer's (after its activation), as a model cut at that layer
   * gives them (TensorFlow.js's `tf.model({ inputs, outputs: layer.output })`, a PyTorch
   * forward hook). 0 is the first hidden layer; a negative index counts from the end, and
   * -1, the default, is the output layer. An array of indices returns each one's outputs,
   * in that order, from one forward pass.
   */
  layer?: number | readonly number[];
}

/** `evaluate`'s options. */
export interface EvaluateOptions {
  /** Figures beside the loss: `accuracy`, `mae`, `r2`. */
  metrics?: readonly Metric[] | undefined;
}

export const NETWORK_OPTION_KEYS = optionKeys<NetworkOptions>()(['backend', 'device', 'onRecover', 'seed', 'path', 'source', 'threads', 'tune']);
export const IMPORT_OPTION_KEYS = optionKeys<ImportOptions>()([...(NETWORK_OPTION_KEYS as (keyof NetworkOptions)[]), 'weights', 'loss', 'trainBiases', 'onWarning']);
export const EVALUATE_OPTION_KEYS = optionKeys<EvaluateOptions>()(['metrics']);

/** The layers `predict` is asked for, as indices from 0 (negative ones count from the end). */
export function predictedLayers(options: PredictOptions, layerCount: number): number[] {
  if (options === null || typeof options !== 'object') throw new InputError('options', `expected an object, got ${asText(options)}`);
  const asked = options.layer ?? -1;
  const list = Array.isArray(asked) ? (asked as readonly unknown[]) : [asked];
  if (list.length === 0) throw new InputError('layer', 'expected a layer index or a non-empty array of them');
  return list.map((l, k) => {
    const where = Array.isArray(asked) ? `layer[${k}]` : 'layer';
    if (typeof l !== 'number' || !Number.isInteger(l) || l < -layerCount || l >= layerCount) {
      throw new InputError(where, `expected a layer index from 0 to ${layerCount - 1} (or -${layerCount} to -1, counting from the end), got ${asText(l)}`);
    }
    return l < 0 ? layerCount + l : l;
  });
}

/** A TensorFlow.js weights file that model.json names, from `options.weights`. */
export async function weightFile(path: string, weights: ImportOptions['weights'], source: string): Promise<Uint8Array> {
  if (typeof weights === 'function') return weights(path);
  const found = weights?.[path] ?? weights?.[path.split('/').pop()!];
  if (!found) throw new InputError(source, `names the weights file ${path}: give its bytes in options.weights`);
  return found;
}
