// Preloaded into a command-line run by tests (node --import): writes the process's peak
// resident memory, in KiB, to the file named by PEAK_MEMORY_FILE as the process exits.
import { writeFileSync } from 'node:fs';

process.on('exit', () => writeFileSync(process.env.PEAK_MEMORY_FILE, String(process.resourceUsage().maxRSS)));
