// Where measurements are kept between runs: each backend's speed, which `backend: 'auto'`
// chooses by (src/train/calibration.ts), and the tile plans tuned on an adapter
// (src/gpu/tune.ts). In the browser's localStorage, in a file in Node
// (src/node/calibration-file.ts), else for the life of the page or process. One store,
// read whole and written whole; an entry that fails its check is measured again.

/** Where measurements are kept between runs: read all, write all. */
export interface CalibrationStore {
  read(): Record<string, unknown> | undefined;
  write(entries: Record<string, unknown>): void;
}

/** The key of the store in the browser's localStorage. */
export const STORAGE_KEY = 'webgpu-backprop:calibration';

const memoryEntries: Record<string, unknown> = {};

/** localStorage where the page has it, else this process's memory. */
function defaultStore(): CalibrationStore {
  const storage = typeof localStorage !== 'undefined' ? localStorage : undefined;
  if (!storage) return { read: () => memoryEntries, write: (entries) => Object.assign(memoryEntries, entries) };
  return {
    read: () => {
      try {
        return JSON.parse(storage.getItem(STORAGE_KEY) ?? '{}');
      } catch {
        return undefined;
      }
    },
    write: (entries) => storage.setItem(STORAGE_KEY, JSON.stringify(entries)),
  };
}

let store: CalibrationStore | undefined;

/** Sets where measurements are kept (src/node.ts: a file). */
export function setCalibrationStore(chosen: CalibrationStore): void {
  store = chosen;
}

function currentStore(): CalibrationStore {
  store ??= defaultStore();
  return store;
}

/** Every kept entry; none where the store fails to read. */
function readAll(): Record<string, unknown> | undefined {
  try {
    const entries = currentStore().read();
    return entries && typeof entries === 'object' ? entries : undefined;
  } catch {
    return undefined;
  }
}

/** The kept entry of `key` where there is one and it passes `valid`. */
export function readKept<T>(key: string, valid: (value: unknown) => value is T): T | undefined {
  const found = readAll()?.[key];
  return found !== undefined && valid(found) ? found : undefined;
}

/**
 * Adds `entries` to the store: read again just before the write, so that measurements
 * kept meanwhile by other work are kept too. A read-only or full store is passed over:
 * the figures are still used this time.
 */
export function keep(entries: Record<string, unknown>): void {
  try {
    currentStore().write({ ...(readAll() ?? {}), ...entries });
  } catch {
    // Nothing kept: measured again next time.
  }
}

/** A kept measurement by its key (where it passes `valid`), or `measure`'s, then kept. */
export async function kept<T>(key: string, measure: () => Promise<T>, valid: (value: unknown) => value is T = (value): value is T => value !== undefined): Promise<{ value: T; measuredNow: boolean }> {
  const found = readKept(key, valid);
  if (found !== undefined) return { value: found, measuredNow: false };
  const value = await measure();
  keep({ [key]: value });
  return { value, measuredNow: true };
}
