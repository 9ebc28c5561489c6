// The one fit engine, under Network.fit and the command line's `train`: the inputs
// standardised as the model asks, held-out validation rows, epochs or a number of steps,
// callbacks, metrics, early stopping, checkpoints and resuming from one, and divergence
// (runTraining turns a non-finite loss into a DivergedError naming the first non-finite
// value). Steps run in chunks through runTraining, the GPU never waiting on a per-step
// read-back; a chunk ends where an epoch or a checkpoint does.
//
// A run is resumable because everything it draws is a function of the step: the batches
// (of the step and the seed), and so any schedule or randomness added to the options.
// A checkpoint holds the step, the weights and the optimizer's state; resuming restores
// them and runs to the end the run would have reached.

import { BatchSchedule } from '../data/batches.ts';
import type { Dataset } from '../data/dataset.ts';
import { applyInputScaling } from '../data/scaling.ts';
import { toDataset, type Rows } from '../data/validate.ts';
import { InputError } from '../errors.ts';
import { checkpointToJson } from '../io/checkpoint.ts';
import { checkTargetsForLoss, outputSize } from '../model/model.ts';
import type { Model } from '../model/network.ts';
import type { Trainer, TrainerState, TrainOptions } from '../model/trainer.ts';
import { mean } from '../reference/backprop.ts';
import { checkCheckpoints, checkMetrics, earlyStopping, runSteps, splitValidation, type EpochLogs, type FitOptions, type History } from './fit-options.ts';
import { runTraining, type TrainingChunk } from './loop.ts';
import { measure } from './metrics.ts';
import { trainOptions } from './options.ts';

/** What `fit` trains: a model, and trainers of it. `Network` is one. */
export interface FitSubject {
  /** The model: its description, its input scaling, and the parameters a new trainer starts from. */
  readonly model: Model;
  /** A trainer of the model on `dataset` with `options`, at the current parameters (the last one again, where both are the same). */
  trainer(dataset: Dataset, options: TrainOptions): Promise<Trainer>;
  /** The training loop's chunk size at the end of the last fit: the next starts there. */
  chunkSteps?: number;
}

/**
 * Trains `subject` on `inputs` (N, IN) and `targets` (N, OUT), raw (the model's input
 * scaling, if any, is applied to a copy), as `options` say; resolves with the history.
 */
export async function fit(subject: FitSubject, inputs: Rows, targets: Rows, options: FitOptions = {}): Promise<History> {
  const { spec, inputScaling } = subject.model;
  const name = (option: string) => options.names?.options?.[option as keyof FitOptions] ?? option;
  // Scaled in place: toDataset's arrays are copies.
  const scaled = (data: Dataset) => {
    if (inputScaling) applyInputScaling(data.inputs, inputScaling);
    return data;
  };
  const all = scaled(toDataset(inputs, targets, spec.inputSize, outputSize(spec)));
  // Before the split, so that a message names the row as the caller counts them.
  checkTargetsForLoss(spec, all.targets);
  const { training, validation } = splitValidation(all, options, scaled);
  if (validation && options.validationData) checkTargetsForLoss(spec, validation.targets, 'validationData[1]');
  const metrics = checkMetrics(options.metrics);
  const train = trainOptions(options, training.size, options.names?.options, options.names?.data);
  const early = earlyStopping(options.earlyStopping, validation !== undefined);
  const steps = runSteps(options, new BatchSchedule(training.size, train.batchSize, train.shuffle, train.seed), name);
  const checkpoint = checkCheckpoints(options.checkpoint, steps, name);
  const resumed = options.resume === undefined ? undefined : await resumeFrom(options.resume, name('resume'), subject.model, train, training, steps);
  const trainer = await subject.trainer(training, train);
  if (resumed) await trainer.writeState(resumed);
  // The run's first step: this fit's, or (resuming) the first of the run the checkpoint was taken in.
  const start = resumed ? resumed.start : trainer.step;
  const end = start + steps;
  const callbacks = options.callbacks ?? {};

  const epochEnd = (e: number) => Math.min(end, start + Math.ceil(((e + 1) * training.size) / train.batchSize));
  const epochOf = (step: number) => {
    let e = Math.floor(((step - start) * train.batchSize) / training.size);
    while (e > 0 && epochEnd(e - 1) > step) e--;
    while (epochEnd(e) <= step && epochEnd(e) < end) e++;
    return e;
  };
  const epochs = epochOf(end - 1) + 1;
  const first = trainer.step;
  // Each step's batch loss, by its place in the run; a resumed run has none before its checkpoint.
  const losses = new Float64Array(steps).fill(NaN);
  const epochLoss = (e: number) => mean(losses.subarray(Math.max(e === 0 ? 0 : epochEnd(e - 1) - start, first - start), epochEnd(e) - start));
  const history: History = { epoch: [], history: {}, steps: 0, stoppedEarly: false, aborted: false };
  const perEpoch = Boolean(callbacks.onEpochEnd || callbacks.onEpochBegin || validation || metrics.length > 0 || early);
  let best: { value: number; epoch: number; params?: Float64Array } | undefined;

  const epochLogs = async (e: number): Promise<EpochLogs> => {
    const logs: EpochLogs = { loss: epochLoss(e) };
    if (metrics.length > 0) {
      // The loss stays the mean batch loss of the epoch, as Keras reports it; the metrics are over all the training rows.
      const { loss: _, ...measured } = await measure(trainer, training, metrics, false);
      Object.assign(logs, measured);
    }
    if (validation) {
      const measured = await measure(trainer, validation, metrics, true);
      logs.val_loss = measured.loss;
      for (const metric of metrics) logs[`val_${metric}`] = measured[metric];
    }
    return logs;
  };
  const record = (e: number, logs: EpochLogs) => {
    history.epoch.push(e);
    for (const [key, value] of Object.entries(logs) as [keyof EpochLogs, number][]) (history.history[key] ??= []).push(value);
  };
  /** Whether training goes on after epoch `e`'s end. */
  const endOfEpoch = async (e: number): Promise<boolean> => {
    const logs = await epochLogs(e);
    record(e, logs);
    await callbacks.onEpochEnd?.(e, logs);
    if (early) {
      const value = logs[early.monitor];
      if (value === undefined) throw new InputError('earlyStopping.monitor', `${early.monitor} is not measured (add it to metrics, or give validation data)`);
      const sign = early.monitor.endsWith('loss') || early.monitor.endsWith('mae') ? 1 : -1;
      if (!best || sign * (best.value - value) > early.minDelta) {
        best = { value, epoch: e, params: early.restoreBestWeights ? (await trainer.readState()).params : undefined };
      } else if (e - best.epoch > early.patience) {
        history.stoppedEarly = true;
        return false;
      }
    }
    if (e + 1 < epochs) await callbacks.onEpochBegin?.(e + 1);
    return true;
  };

  /** Records a chunk's batch losses and calls onBatchEnd for each of its steps. */
  const batchEnds = async ({ firstStep, losses: chunk }: TrainingChunk) => {
    losses.set(chunk, firstStep - start);
    if (!callbacks.onBatchEnd) return;
    for (let k = 0; k < chunk.length; k++) {
      const s = firstStep + k;
      const e = epochOf(s);
      // Awaited only where it returns a promise: most return nothing, and an await a step would cost.
      const pending = callbacks.onBatchEnd(s - (e === 0 ? start : epochEnd(e - 1)), { loss: chunk[k], epoch: e, step: s });
      if (pending) await pending;
    }
  };

  await callbacks.onTrainBegin?.({ step: first, steps, done: first - start });
  if (perEpoch && first < end) await callbacks.onEpochBegin?.(epochOf(first));
  const result = await runTraining(trainer, {
    steps: end - first,
    chunkSteps: subject.chunkSteps,
    nextStop: perEpoch ? (step) => epochEnd(epochOf(step)) : undefined,
    checkpointEvery: checkpoint?.every,
    onCheckpoint: checkpoint && ((state: TrainerState) => checkpoint.save(checkpointToJson(subject.model, train, state, training, start))),
    signal: options.signal,
    // A diverging chunk's losses reach onBatchEnd up to the first non-finite one, as TensorFlow.js reports a NaN loss.
    onDiverged: batchEnds,
    onChunk: async (chunk) => {
      await batchEnds(chunk);
      const { step } = chunk;
      if (!perEpoch) return true;
      const e = epochOf(step - 1);
      return epochEnd(e) === step ? endOfEpoch(e) : true;
    },
  });
  subject.chunkSteps = result.chunkSteps;
  history.steps = result.steps;
  history.aborted = result.stoppedBy === 'signal';
  if (!perEpoch) {
    // Epochs completed, each with its mean batch loss, from the losses of the run.
    for (let e = epochOf(first); e < epochs && epochEnd(e) <= trainer.step; e++) record(e, { loss: epochLoss(e) });
  }
  if (best?.params) await trainer.writeState({ ...(await trainer.readState()), params: best.params });
  await callbacks.onTrainEnd?.(history);
  return history;
}

/** The state a checkpoint holds, checked against this run (the checkpoint reader is loaded only here). */
async function resumeFrom(checkpoint: NonNullable<FitOptions['resume']>, source: string, model: Model, options: TrainOptions, dataset: Dataset, steps: number): Promise<TrainerState & { start: number }> {
  const { parseCheckpoint } = await import('../io/checkpoint-read.ts');
  const state = parseCheckpoint(checkpoint, source, model, options, dataset);
  if (state.step - state.start > steps) throw new InputError(source, `is at step ${state.step}, past the ${steps} steps of this run`);
  return state;
}
