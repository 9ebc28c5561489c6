// The one seeded random generator: weight initialisation, batch shuffling and the
// synthetic datasets all draw from it, so a seed means the same numbers everywhere. It is
// seedrandom's ARC4 generator (its default), which train.py carries a copy of.

import seedrandom from 'seedrandom/seedrandom.js';

/** A uniform [0, 1) generator. */
export type Random = () => number;

/** A reproducible uniform [0, 1) generator; the same seed gives the same numbers everywhere. */
export function seededRandom(seed: number | string): Random {
  return seedrandom(String(seed));
}
