// webgpu-backprop: dense neural networks trained by backpropagation in WGSL compute
// shaders on WebGPU, checked buffer by buffer against a float64 reference.
//
// The public API, for the browser and Node alike; 'webgpu-backprop/node' adds what only
// Node has (Dawn's WebGPU, reading and writing files). Nothing else is public.

// The network: create, fit, predict, evaluate, save, dispose.
export { Network } from './network.ts';
export type { BackendChoice, BatchLogs, EarlyStopping, EpochLogs, Evaluation, EvaluateOptions, FitCallbacks, FitOptions, History, NetworkOptions } from './network.ts';

// Errors, one class per kind.
export { BackpropError, DeviceLostError, DisposedError, DivergedError, InputError, LimitError, WebGpuUnavailableError } from './errors.ts';

// The model description, shared by the reference and the GPU trainer.
export { ACTIVATIONS, LOSSES, layerInputs, outputSize } from './model/model.ts';
export type { Activation, LayerSpec, Loss, ModelSpec } from './model/model.ts';
export { createModel, layerBiases, layerWeights } from './model/network.ts';
export type { Model } from './model/network.ts';
export { describeParamIndex, paramEntry, paramLayout, paramView } from './model/layout.ts';
export type { ParamEntry, ParamKind, ParamLayout } from './model/layout.ts';
export { DEFAULT_OPTIMIZERS, OPTIMIZER_KINDS, stateSlots } from './model/optimizer.ts';
export type { OptimizerKind, OptimizerSpec } from './model/optimizer.ts';
export { bufferNames, bufferShape } from './model/buffers.ts';
export type { BufferName, LayerBufferKind } from './model/buffers.ts';

// Model files, data files and checkpoints, as text (Node reads and writes them from disk).
export { declareModel, MODEL_LIMITS, modelFromJson, modelToJson, parseModelDeclaration, parseModelFile } from './io/model-file.ts';
export type { LayerFile, ModelDeclaration, ModelFile } from './io/model-file.ts';
export { checkDataFits, DATA_LIMITS, parseDataCsv, parseDataFile, parseDataJson, parseDataTable, tableDataset } from './io/data-file.ts';
export type { DataRows, DataTable } from './io/data-file.ts';
export { MAX_CLASSES, parseLabelledCsv } from './io/labelled-csv.ts';
export type { LabelledData } from './io/labelled-csv.ts';
export { checkpointToJson, parseCheckpoint } from './io/checkpoint.ts';

// Other engines: ONNX, TensorFlow.js and PyTorch, out and back in.
export { EXPORT_FORMATS, exportOnnx, exportPytorch, exportTfjs, importFormat, importOnnx, importTfjs, tfjsWeightPaths, ONNX_INPUT, ONNX_OUTPUT, ONNX_OPSET, PYTORCH_MODEL_FILE, PYTORCH_SCRIPT, TFJS_WEIGHTS_PATH } from './interop/index.ts';
export type { ExportFormat, ImportFormat, ImportOptions, PytorchExportOptions, TfjsModelJson, TfjsWeightData, TfjsWeightEntry } from './interop/index.ts';

// Datasets and batches.
export { checkDatasetValues, datasetFromRows, gatherBatch } from './data/dataset.ts';
export type { Dataset } from './data/dataset.ts';
export { toDataset } from './data/validate.ts';
export { FLOAT32_MAX, valueProblem } from './data/values.ts';
export { parseDecimal } from './io/numbers.ts';
export type { Rows } from './data/validate.ts';
export { BatchSchedule, MAX_SEED } from './data/batches.ts';
export { SYNTHETIC_DATASETS, syntheticDataset } from './data/synthetic.ts';
export type { SyntheticName } from './data/synthetic.ts';
export { applyInputScaling, checkInputScaling, fitInputScaling } from './data/scaling.ts';
export type { InputScaling } from './data/scaling.ts';
export { outputFor, targetKind } from './train/targets.ts';
export type { OutputChoice, TargetKind } from './train/targets.ts';

// Training: the lower-level trainers with their named buffers, and the one training loop.
export type { Trainer, TrainerState, TrainOptions } from './model/trainer.ts';
export { CpuTrainer } from './reference/trainer.ts';
export { GpuTrainer } from './gpu/trainer.ts';
export type { GpuTrainerOptions, KernelPath, KernelTiming } from './gpu/trainer.ts';
export type { Dispatch } from './gpu/encoder.ts';
export type { MatmulPlan } from './gpu/tiles.ts';
export { ResilientTrainer } from './gpu/resilient.ts';
export type { ResilienceOptions } from './gpu/resilient.ts';
export { createTrainer } from './train/create.ts';
export type { CreateTrainerOptions } from './train/create.ts';
export { checkFiniteLoss, runTraining } from './train/loop.ts';
export type { TrainingChunk, TrainingLoopOptions, TrainingResult } from './train/loop.ts';
export { DEFAULT_BATCH_SIZE, DEFAULT_LEARNING_RATE, DEFAULT_SEED, optimizerSpec, trainOptions } from './train/options.ts';
export type { TrainOptionsInput } from './train/options.ts';
export { accuracy, computeMetrics, confusionMatrix, meanAbsoluteError, METRICS, predictedClasses, rSquared } from './train/metrics.ts';
export type { Metric } from './train/metrics.ts';

// The float64 reference, step by step, as the articles write it.
export { backward, forward, hiddenDeltas, layerGradients, mean, outputDeltas, sampleLosses } from './reference/backprop.ts';
export type { BackwardValues, ForwardValues } from './reference/backprop.ts';
export { activate, derivativeFromOut, logSumExp, softmax } from './reference/activations.ts';
export { outputDelta, sampleLoss } from './reference/losses.ts';
export { optimizerStep } from './reference/optimizers.ts';

// Checking a float32 trainer against the reference.
export { compareBuffers } from './check/compare.ts';
export type { Comparison, Tolerance } from './check/compare.ts';
export { crossCheck } from './check/crosscheck.ts';
export type { Checkable } from './check/crosscheck.ts';
export { float32Tolerances, FLOAT32_UNIT_ROUNDOFF } from './check/tolerance.ts';
export type { ReferenceBuffers, ToleranceSetting } from './check/tolerance.ts';
export { firstNonFinite, locateNonFinite } from './check/diagnose.ts';
export type { NonFinite } from './check/diagnose.ts';

// WebGPU devices.
export { adapterName, describeAdapter, DeviceKeeper, openDevice, requestAdapter } from './gpu/device.ts';
export type { AdapterDescription } from './gpu/device.ts';

// The articles' worked examples, traced number by number.
export { findExample, WORKED_EXAMPLES } from './examples/articles.ts';
export { resolveExample, traceCase, traceExample, traceToMarkdown } from './examples/trace.ts';
export type { CaseTrace, ExampleTrace, TraceLine } from './examples/trace.ts';
export { caseSetup, StepRecord } from './examples/worked-example.ts';
export type { Notation, PrintedValue, WorkedCase, WorkedExample } from './examples/worked-example.ts';

// Benchmarks: the workloads, the suite, the peers, the roofline, the report.
export { DEFAULT_SUITE_OPTIONS, measureWorkload, median, QUICK_SUITE_OPTIONS, runSuite } from './bench/suite.ts';
export type { Measurement, SuiteOptions } from './bench/suite.ts';
export { flopsPerStep, STANDARD_WORKLOADS, sweepWorkloads, W1, W2, W3 } from './bench/workloads.ts';
export type { Workload } from './bench/workloads.ts';
export { BACKEND_NAMES, referenceBackend, tightLoopBackend, webgpuBackend } from './bench/backends.ts';
export type { Backend, BenchRun } from './bench/backends.ts';
export { tfjsBackend } from './bench/peers.ts';
export type { TfModule, TfTensor } from './bench/peers.ts';
export { profileWorkload } from './bench/roofline.ts';
export type { Roofline, RooflineRow } from './bench/roofline.ts';
export { breakEven, figure, markdownTable, rooflineMarkdown, speedRatios } from './bench/report.ts';
export type { BenchReport } from './bench/report.ts';
export { KNOWN_ADAPTERS, knownAdapter } from './gpu/adapters.ts';
export type { GpuProfile, KnownAdapter } from './gpu/adapters.ts';
