// Runs the command line as a user does: node bin/webgpu-backprop.js …

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['bin/webgpu-backprop.js', ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Starts the command line without waiting for it. */
export function startCli(...args: string[]): ChildProcess {
  return spawn(process.execPath, ['bin/webgpu-backprop.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}
