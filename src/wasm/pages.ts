// The WebAssembly memory's size limit, which the module declares (scripts/vite-wasm.ts
// builds it so) and the host's memory must match: a shared memory declares its maximum
// up front.

/** Pages of 64 KiB the memory may grow to: 1 GiB. */
export const MAXIMUM_PAGES = 16384;
