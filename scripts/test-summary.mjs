// Prints "N passed, N failed" from vitest's JSON report (a run that wrote no report,
// or failed files with no tests in them, count as one failure each).
import { existsSync, readFileSync } from 'node:fs';

const path = process.argv[2];
if (!existsSync(path)) {
  console.log('0 passed, 1 failed');
  process.exit(0);
}
const report = JSON.parse(readFileSync(path, 'utf8'));
const emptyFailedFiles = report.testResults.filter((file) => file.status === 'failed' && file.assertionResults.length === 0).length;
console.log(`${report.numPassedTests} passed, ${report.numFailedTests + emptyFailedFiles} failed`);
