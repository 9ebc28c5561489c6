#!/usr/bin/env node
// The command line, run from its TypeScript sources through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// Dawn keeps native handles alive; exit explicitly once the work is done.
process.exit(code);
