// TypeScript before 6 has no WebGPU in its DOM library: these declarations take it from
// @webgpu/types, then are the package's own (TypeScript 6 and later read those directly).
/// <reference types="@webgpu/types" />
export * from '../../dist/worker.ts';
