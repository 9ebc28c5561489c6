#!/usr/bin/env node
// The command line, as built into dist/ (npm install in the checkout builds it).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('webgpu-backprop: the command line is not built (dist/cli.js is missing): run npm run build');
  process.exit(1);
}
const { main } = await import(cli.href);
const code = await main(process.argv.slice(2));
// Dawn keeps native handles alive; exit explicitly once the work is done.
process.exit(code);
