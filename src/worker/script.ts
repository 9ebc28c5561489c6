// The worker script NetworkWorker starts: it serves networks to the page that started it.

import { serveNetworks } from './host.ts';
import type { WorkerEndpoint } from './protocol.ts';

serveNetworks(self as unknown as WorkerEndpoint);
