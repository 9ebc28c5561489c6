// The one seeded random generator: weight initialisation, batch shuffling and the
// synthetic datasets all draw from it, so a seed means the same numbers everywhere.

import seedrandom from 'seedrandom';

/** A uniform [0, 1) generator. */
export type Random = () => number;

/** A reproducible uniform [0, 1) generator; the same seed gives the same numbers everywhere. */
export function seededRandom(seed: number | string): Random {
  return seedrandom(String(seed));
}
