// The WebAssembly module's two builds, embedded at build time by scripts/vite-wasm.ts.
declare module 'virtual:webgpu-backprop-wasm' {
  /** With threads: a shared memory and atomics (base64). */
  export const threaded: string;
  /** Without threads (base64). */
  export const single: string;
  /** Pages of 64 KiB the memory may grow to. */
  export const maximumPages: number;
}
