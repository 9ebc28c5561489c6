// The MNIST digits asset, made by scripts/vite-mnist.ts.
declare module 'virtual:mnist-digits' {
  /** Where the gzip-compressed digits are: labels (N bytes), then pixels (N × 784 bytes). */
  export const url: string;
  /** The asset's size, compressed. */
  export const bytes: number;
  /** Its size once decompressed. */
  export const rawBytes: number;
  /** N, the number of digits. */
  export const count: number;
}
