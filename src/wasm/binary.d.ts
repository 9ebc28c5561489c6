// The WebAssembly module's two builds, embedded at build time by scripts/vite-wasm.ts, each
// its own module (base64).
declare module 'virtual:webgpu-backprop-wasm/threaded' {
  /** With threads: a shared memory and atomics. */
  const base64: string;
  export default base64;
}
declare module 'virtual:webgpu-backprop-wasm/single' {
  /** Without threads. */
  const base64: string;
  export default base64;
}
