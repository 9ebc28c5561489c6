// Where measurements are kept in Node (src/measurements.ts): `backend: 'auto'`'s speeds
// (src/train/calibration.ts) and the tile plans tuned per adapter (src/gpu/tune.ts), in a
// JSON file in the user's cache folder, or where WEBGPU_BACKPROP_CALIBRATION names.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CalibrationStore } from '../measurements.ts';

/** The file: $WEBGPU_BACKPROP_CALIBRATION, else webgpu-backprop/calibration.json in $XDG_CACHE_HOME or ~/.cache. */
export function calibrationFile(): string {
  const env = process.env;
  return env.WEBGPU_BACKPROP_CALIBRATION || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'webgpu-backprop', 'calibration.json');
}

/** The measurements in that file (none where it is missing or unreadable), written whole and atomically. */
export const fileCalibrationStore: CalibrationStore = {
  read() {
    try {
      return JSON.parse(readFileSync(calibrationFile(), 'utf8'));
    } catch {
      return undefined;
    }
  },
  write(entries) {
    const file = calibrationFile();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.${process.pid}.tmp`, `${JSON.stringify(entries, null, 2)}\n`);
    renameSync(`${file}.${process.pid}.tmp`, file);
  },
};
