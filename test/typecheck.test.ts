// The whole project type-checks (strict TypeScript), as one test among the others.

import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('tsc --noEmit finds no type errors', () => {
  const result = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '--pretty', 'false'], { encoding: 'utf8' });
  expect(result.stdout + result.stderr).toBe('');
  expect(result.status).toBe(0);
});
