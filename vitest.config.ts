import { defineConfig } from 'vitest/config';
import { sourceAliases } from './vite.config.ts';
import { webassemblyModule } from './scripts/vite-wasm.ts';

export default defineConfig({
  resolve: { alias: sourceAliases },
  plugins: [webassemblyModule()],
  test: {
    include: ['test/**/*.test.ts'],
    // SwiftShader runs WebGPU on the CPU: GPU tests and browser tests need time.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
