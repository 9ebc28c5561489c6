// webgpu-backprop/worker: training in a dedicated Worker, so that the page's thread never
// waits on it. A WorkerNetwork has Network's API (fit, predict, evaluate, toJSON, export,
// dispose); its callbacks arrive as messages, the batch losses of a chunk of steps in one.
//
//   const net = await WorkerNetwork.create({ inputSize: 2, loss: 'mse', layers: [...] });
//   await net.fit(inputs, targets, { epochs: 100, callbacks: { onBatchEnd: (b, logs) => plot(logs.loss) } });
//
// Several networks can share one worker (NetworkWorker.start()), and rows uploaded to it
// once serve any number of calls. A worker script of your own can serve networks too
// (`serveNetworks(self)`).

export { NetworkWorker, WorkerNetwork } from './worker/client.ts';
export type { WorkerImportOptions, WorkerNetworkOptions } from './worker/client.ts';
export { WorkerRows } from './worker/rows.ts';
export type { WorkerRowsInput } from './worker/rows.ts';
export { serveNetworks } from './worker/host.ts';
export type { WorkerEndpoint } from './worker/protocol.ts';
