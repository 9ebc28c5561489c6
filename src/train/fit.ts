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
import type { Labels } from '../data/labels.ts';
import { InputError } from '../errors.ts';
import { checkpointToJson } from '../io/checkpoint.ts';
import { checkTargets, outputSize } from '../model/model.ts';
import type { Model } from '../model/network.ts';
import type { Trainer, TrainerState, TrainOptions } from '../model/trainer.ts';
import { mean } from '../reference/backprop.ts';
import { checkCheckpoints, checkFitOptions, checkMetrics, EarlyStopper, earlyStopping, runSteps, splitValidation, type EpochLogs, type FitOptions, type History } from './fit-options.ts';
import { runTraining, unlessAborted, type TrainingChunk } from './loop.ts';
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
  /**
   * Takes the trainer's parameters as the model's: before each callback (so that a
   * callback sees the weights so far), and at the end of the fit, however it ends.
   */
  sync?(trainer: Trainer): Promise<void>;
  /**
   * Set where the fit was stopped while a chunk of steps was under way: the trainer goes
   * back to the chunk's start once the GPU is done with it, and this settles then.
   */
  settling?: Promise<void>;
}

/**
 * Trains `subject` on `inputs` (N, IN) and `targets` (N, OUT), raw (the model's input
 * scaling, if any, is applied to a copy), as `options` say; resolves with the history.
 */
export async function fit(subject: FitSubject, inputs: Rows, targets: Rows | Labels, options: FitOptions = {}): Promise<History> {
  checkFitOptions(options);
  const { spec, inputScaling } = subject.model;
  const name = (option: string) => options.names?.options?.[option as keyof FitOptions] ?? option;
  const dataName = options.names?.data;
  // Scaled in place: toDataset's arrays are copies.
  const scaled = (data: Dataset) => {
    if (inputScaling) applyInputScaling(data.inputs, inputScaling);
    return data;
  };
  const all = scaled(toDataset(inputs, targets, spec.inputSize, outputSize(spec)));
  checkTargets(spec, all.targets, dataName ? `${dataName}: targets` : 'targets');
  const { training, validation } = splitValidation(all, options, scaled);
  if (validation) checkTargets(spec, validation.targets, options.validationData ? 'validationData[1]' : 'targets');
  const metrics = checkMetrics(options.metrics);
  const train = trainOptions(options, training.size, options.names?.options);
  const measured = ['loss', ...metrics, ...(validation ? ['val_loss', ...metrics.map((metric) => `val_${metric}`)] : [])];
  const early = earlyStopping(options.earlyStopping, measured, validation !== undefined);
  const steps = runSteps(options, new BatchSchedule(training.size, train.batchSize, train.shuffle, train.seed), name);
  const checkpoint = checkCheckpoints(options.checkpoint, steps, name);
  const history: History = { epoch: [], history: {}, steps: 0, stoppedEarly: false, aborted: false };
  const resumed = options.resume === undefined ? undefined : await resumeFrom(options.resume, name('resume'), subject.model, train, training, steps, dataName);
  // Compiling a large network's kernels takes long: a signal aborted meanwhile ends the fit at once.
  const trainer = await unlessAborted(subject.trainer(training, train), options.signal);
  if (!trainer) return { ...history, aborted: true };
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
  const perEpoch = Boolean(callbacks.onEpochEnd || callbacks.onEpochBegin || validation || metrics.length > 0 || early);
  const stopper = early && new EarlyStopper(early);
  let bestParams: Float64Array | undefined;
  // The model's parameters are the trainer's as of this step (a callback reads them with toJSON).
  let synced = first;
  const sync = async () => {
    if (trainer.step === synced) return;
    await subject.sync?.(trainer);
    synced = trainer.step;
  };

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
    if (stopper) {
      const { improved, stop } = stopper.update(e, logs[early.monitor]!);
      if (improved && early.restoreBestWeights) bestParams = (await trainer.readState()).params;
      if (stop) {
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
    // The model keeps up chunk by chunk: toJSON() in a callback gives the weights so far (an
    // epoch ends with a chunk), and a stop while a chunk is under way leaves them as of the last.
    await sync();
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
  let failure: { error: unknown } | undefined;
  try {
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
    subject.settling = result.settling;
    history.steps = result.steps;
    history.aborted = result.stoppedBy === 'signal';
    if (!perEpoch) {
      // Epochs completed, each with its mean batch loss, from the losses of the run.
      for (let e = epochOf(first); e < epochs && epochEnd(e) <= trainer.step; e++) record(e, { loss: epochLoss(e) });
    }
    // As Keras: at the end, the weights of the best epoch (the optimizer's state stays the last one's).
    if (bestParams) await trainer.writeState({ ...(await trainer.readState()), params: bestParams });
  } catch (error) {
    failure = { error };
  }
  // However the fit ends (a divergence rolls the trainer back to its last finite state), the model holds the trainer's weights.
  try {
    if (!subject.settling) {
      synced = NaN;
      await sync();
    }
  } catch (error) {
    failure ??= { error };
  }
  if (failure) throw failure.error;
  await callbacks.onTrainEnd?.(history);
  return history;
}

/** The state a checkpoint holds, checked against this run (the checkpoint reader is loaded only here). */
async function resumeFrom(checkpoint: NonNullable<FitOptions['resume']>, source: string, model: Model, options: TrainOptions, dataset: Dataset, steps: number, dataName?: string): Promise<TrainerState & { start: number }> {
  const { parseCheckpoint } = await import('../io/checkpoint-read.ts');
  const state = parseCheckpoint(checkpoint, source, model, options, dataset, dataName);
  if (state.step - state.start > steps) throw new InputError(source, `is at step ${state.step}, past the ${steps} steps of this run`);
  return state;
}
