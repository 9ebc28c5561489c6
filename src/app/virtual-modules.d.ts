// The MNIST assets, made by scripts/vite-mnist.ts.
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

declare module 'virtual:mnist-full' {
  /** Where the gzip-compressed database is: training labels, test labels, training pixels, test pixels (bytes; pixels 784 a digit). */
  export const url: string;
  /** Its size once decompressed. */
  export const rawBytes: number;
  /** Training digits (60,000). */
  export const train: number;
  /** Test digits (10,000). */
  export const test: number;
}
