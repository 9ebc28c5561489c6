// webgpu-backprop: dense neural networks trained by backpropagation in WGSL compute
// shaders on WebGPU, checked buffer by buffer against a float64 reference.
//
// The root entry point, for the browser and Node alike: Network, its errors, its
// options, and the model files it reads and writes. The tiers beside it:
//   webgpu-backprop/node      this, plus what only Node has: Dawn's WebGPU, files
//   webgpu-backprop/trainers  the trainers with named buffers, the reference, the checks, the training loop
//   webgpu-backprop/bench     the benchmark suite
//   webgpu-backprop/examples  the articles' worked examples, and the playground's datasets

// The network: create, fit, predict, evaluate, save, export, dispose.
export { Network } from './network.ts';
export type { BackendChoice, BackendName, EvaluateOptions, ImportOptions, NetworkOptions, PredictOptions } from './network-options.ts';
export type { BatchLogs, CheckpointOptions, EarlyStopping, EpochLogs, FitCallbacks, FitOptions, History } from './train/fit-options.ts';
export type { TrainOptionsInput } from './train/options.ts';
export type { Evaluation, Metric } from './train/metrics.ts';
export type { Rows } from './data/validate.ts';
export type { Labels } from './data/labels.ts';

// Errors, one class per kind.
export { BackpropError, DeviceLostError, DisposedError, DivergedError, InputError, LimitError, WebGpuUnavailableError } from './errors.ts';

// The model description, and the names its fields take.
export { ACTIVATIONS, LOSSES } from './model/model.ts';
export type { Activation, LayerSpec, Loss, ModelSpec } from './model/model.ts';
export { OPTIMIZER_KINDS } from './model/optimizer.ts';
export type { OptimizerKind, OptimizerSpec } from './model/optimizer.ts';
export type { InputScaling } from './data/scaling.ts';

// Model files, checkpoints, and other engines' formats.
export { MODEL_LIMITS } from './io/model-format.ts';
export type { LayerFile, ModelDescription, ModelFile } from './io/model-format.ts';
export { parseModelDeclaration } from './io/model-file.ts';
export type { ModelDeclaration } from './io/model-declaration.ts';
export type { Checkpoint } from './io/checkpoint.ts';
export { EXPORT_FORMATS } from './interop/formats.ts';
export type { ExportFormat, ImportFormat } from './interop/formats.ts';
export type { PytorchExportOptions } from './interop/pytorch.ts';

// WebGPU devices: one the network may share, and what its adapter says of itself.
export { DeviceKeeper } from './gpu/device.ts';
export type { AdapterDescription } from './gpu/device.ts';
export type { KernelPath } from './gpu/trainer.ts';
