// webgpu-backprop/examples: the articles' worked examples, every number they print, and
// their traces (the article, the float64 reference and WebGPU side by side); and the
// synthetic datasets of the playground (TensorFlow Playground's circle, XOR, Gaussians
// and spiral).

export { resolveExample, traceCase, traceExample, traceToMarkdown } from './examples/trace.ts';
export type { CaseTrace, ExampleTrace, TraceLine } from './examples/trace.ts';
export { WORKED_EXAMPLES } from './examples/articles.ts';
export type { Notation, PrintedValue, StepRecord, WorkedCase, WorkedExample } from './examples/worked-example.ts';
export { SYNTHETIC_DATASETS, syntheticDataset } from './data/synthetic.ts';
export type { SyntheticName } from './data/synthetic.ts';
