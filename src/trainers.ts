// webgpu-backprop/trainers: the layers under Network, for tests and tools that look
// inside a step. The trainers with their named buffers (the float64 reference,
// WebAssembly and WebGPU), the model and its parameter table, datasets and batches, the training loop,
// metrics, the reference's forward and backward passes, and the checks of a float32
// trainer against the reference. In Node, import 'webgpu-backprop/node' too for Dawn.

// The model and its parameters, one flat array sliced by the parameter table.
export { createModel } from './model/network.ts';
export type { Model } from './model/network.ts';
export { modelFromJson } from './io/model-file.ts';
export { paramView } from './model/layout.ts';
export type { ParamEntry, ParamKind, ParamLayout } from './model/layout.ts';
export { bufferNames, bufferShape } from './model/buffers.ts';
export type { BufferName, LayerBufferKind } from './model/buffers.ts';

// The trainers, with the same named buffers.
export type { Trainer, TrainerState, TrainOptions } from './model/trainer.ts';
export { CpuTrainer } from './reference/trainer.ts';
export { WasmTrainer } from './wasm/trainer.ts';
export type { WasmTrainerOptions } from './wasm/trainer.ts';
export { GpuTrainer } from './gpu/trainer.ts';
export type { GpuTrainerOptions } from './gpu/trainer.ts';
export type { KernelTiming } from './gpu/profile.ts';
export type { Dispatch } from './gpu/encoder.ts';
export type { MatmulPlan, MatmulShape } from './gpu/tiles.ts';
export { describePlan } from './gpu/tiles.ts';
export type { TunedProduct, Tuning } from './gpu/tune.ts';
export type { TuneMode, TuneSettings } from './gpu/tune-mode.ts';
export type { GpuProfile } from './gpu/adapters.ts';
export { createTrainer } from './train/create.ts';
export type { CreateTrainerOptions } from './train/create.ts';
export { adapterName, describeAdapter, openDevice, requestAdapter } from './gpu/device.ts';

// Datasets and batches.
export { datasetFromRows } from './data/dataset.ts';
export type { Dataset } from './data/dataset.ts';
export { BatchSchedule } from './data/batches.ts';
export { fitInputScaling } from './data/scaling.ts';
export { parseLabelledCsv } from './io/labelled-csv.ts';
export type { LabelledData } from './io/labelled-csv.ts';
export { outputFor, targetKind } from './train/targets.ts';
export type { OutputChoice, TargetKind } from './train/targets.ts';

// The one training loop, its options, and the metrics.
export { runTraining } from './train/loop.ts';
export type { TrainingChunk, TrainingLoopOptions, TrainingResult } from './train/loop.ts';
export { trainOptions } from './train/options.ts';
export { parseDecay } from './model/schedule.ts';
export type { Decay, LearningRateSchedule } from './model/schedule.ts';
export { computeMetrics, confusionMatrix, predictedClasses } from './train/metrics.ts';

// The float64 reference's passes, as the articles write them.
export { backward, forward } from './reference/backprop.ts';
export type { BackwardValues, ForwardValues } from './reference/backprop.ts';
export type { DropoutStep } from './model/dropout.ts';

// Checking a float32 trainer against the reference.
export { compareBuffers } from './check/compare.ts';
export type { Comparison, Tolerance } from './check/compare.ts';
export { crossCheck } from './check/crosscheck.ts';
export type { Checkable } from './check/crosscheck.ts';
export { float32Tolerances } from './check/tolerance.ts';
export type { ReferenceBuffers, ToleranceSetting } from './check/tolerance.ts';
export { locateNonFinite } from './check/diagnose.ts';
export type { NonFinite } from './check/diagnose.ts';
