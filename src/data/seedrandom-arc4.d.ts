// seedrandom's ARC4 generator alone (its package's main module adds five more generators
// that nothing here uses): the same function as the package's default export.
declare module 'seedrandom/seedrandom.js' {
  import seedrandom from 'seedrandom';
  export default seedrandom;
}
