// webgpu-backprop/bench: the benchmark suite (interleaved, each result checked against
// the reference), its workloads, the backends it times (ours, the float64 reference, a
// tight float64 loop, TensorFlow.js), the roofline, and the report. The benchmark command
// (bench/) and the app's benchmark page are built on it.

export { DEFAULT_SUITE_OPTIONS, measureWorkload, median, QUICK_SUITE_OPTIONS, runSuite } from './bench/suite.ts';
export type { Measurement, SuiteOptions } from './bench/suite.ts';
export { flopsPerStep, STANDARD_WORKLOADS, sweepWorkloads } from './bench/workloads.ts';
export { jobData, jobFitOptions, JOBS, JobCheck, jobSteps } from './bench/jobs.ts';
export type { Job } from './bench/jobs.ts';
export type { Workload } from './bench/workloads.ts';
export { BACKEND_NAMES, referenceBackend, tightLoopBackend, wasmBackend, webgpuBackend } from './bench/backends.ts';
export type { Backend, BenchRun } from './bench/backends.ts';
export { tfjsBackend } from './bench/peers.ts';
export type { TfModule, TfTensor } from './bench/peers.ts';
export { profileWorkload } from './bench/roofline.ts';
export type { Roofline, RooflineRow } from './bench/roofline.ts';
export { breakEven, figure, markdownTable, rooflineMarkdown, speedRatios } from './bench/report.ts';
export type { BenchReport } from './bench/report.ts';
export { knownAdapter } from './gpu/adapters.ts';
export type { KnownAdapter } from './gpu/adapters.ts';
