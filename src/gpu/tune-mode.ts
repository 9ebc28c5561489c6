// Whether tile plans are tuned (tune.ts), by the `tune` option and the adapter: apart from
// the tuner, so that a trainer that does not tune (`auto` on a software adapter, `off`)
// never loads it.

import type { GpuProfile } from './adapters.ts';

/** `auto`: tune on a hardware adapter, not on a software one (a CPU, where each compile takes a second or two); `on`: on any adapter; `off`: the cost model's plans. */
export type TuneMode = 'auto' | 'on' | 'off';

/** How tile plans are tuned (GpuTrainerOptions.tune); every field optional. */
export interface TuneSettings {
  /** Default `auto`. */
  mode?: TuneMode | undefined;
  /** Plans timed per product, the cost model's choice among them (default 3; each new one is a pipeline to compile). */
  candidates?: number | undefined;
  /** The fewest FLOPs (2·M·N·K) of a product that is tuned (default 2²⁴): a smaller one takes the cost model's plan. */
  minFlops?: number | undefined;
}

export const TUNE_DEFAULTS = { mode: 'auto', candidates: 3, minFlops: 2 ** 24 } as const;

/** Whether settings tune products on this adapter at all. */
export function tunes(settings: TuneSettings | TuneMode | undefined, profile: GpuProfile): boolean {
  const mode = (typeof settings === 'string' ? settings : settings?.mode) ?? TUNE_DEFAULTS.mode;
  return mode === 'on' || (mode === 'auto' && !profile.software);
}
