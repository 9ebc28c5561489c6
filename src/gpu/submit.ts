// A GPU trainer's steps on their way to the GPU, and its losses on their way back.
//
// Steps go in chunks: each chunk's batch rows and Step structs are written in one go (and,
// where the dataset is streamed, its rows themselves), its steps are encoded and submitted
// a few at a time (so the GPU starts while the CPU still encodes), and its losses are
// copied from the GPU-side loss history into a staging buffer. At most two chunks are in
// flight; a chunk's losses are read when the trainer waits for room, or for all of them,
// each wait paced (pacing.ts) so that it does not take a core from the work it waits for.

import { gatherBatch, type Dataset } from '../data/dataset.ts';
import type { BatchSchedule } from '../data/batches.ts';
import type { TrainOptions } from '../model/trainer.ts';
import { adamCorrections } from '../reference/optimizers.ts';
import { learningRateAt } from '../model/schedule.ts';
import { packStep } from './abi.ts';
import type { TrainerMemory } from './buffers.ts';
import type { StepEncoder } from './encoder.ts';
import { FINITE_CHECK_GROUPS, FINITE_CHECK_THREADS, type Kernel } from './kernels.ts';
import { binding, f32Bytes, whole, type DatasetPlacement } from './memory.ts';
import { inScopes, throwScopeErrors, type ScopeErrors } from './scopes.ts';
import { Pacer } from './pacing.ts';

/** Chunks submitted but not yet finished, at most: enough to keep the GPU busy while the next is encoded. */
const MAX_IN_FLIGHT = 2;

/** A submitted chunk, until its losses are read. */
interface Chunk {
  staging: GPUBuffer; // (count, shares) losses, then the finite flag (u32); mapped once the chunk is done
  count: number;
  submittedAt: number;
  /** What the error scopes around its upload and submits caught, and the chunk in words for a message. */
  errors: Promise<ScopeErrors>;
  what: string;
}

export class ChunkQueue {
  /** Paces every wait for the GPU (the profiler's too). */
  readonly pacer = new Pacer();
  /** A chunk's batch rows and Step structs, written in place and uploaded (nothing allocated per step). */
  private readonly rowsUpload: Uint32Array<ArrayBuffer>; // (CHUNK, B)
  private readonly stepsUpload: DataView; //                (CHUNK) Step structs, stepStride apart
  private inFlight: Chunk[] = [];
  /** The last wait for a chunk, which the next one queues behind. */
  private finishing: Promise<void> = Promise.resolve();
  /** Staging buffers of chunks already read, for reuse. */
  private spareStaging: GPUBuffer[] = [];
  /** Losses read from the GPU and not yet taken. */
  private drained: Float64Array[] = [];
  /** finite_check.wgsl over the parameters and the optimizer state, into the finite flag. */
  private readonly check: { pipeline: GPUComputePipeline; group: GPUBindGroup; workgroups: number };

  constructor(
    private readonly device: GPUDevice,
    private readonly memory: TrainerMemory,
    private readonly schedule: BatchSchedule,
    private readonly options: TrainOptions,
    private readonly dataset: Dataset,
    private readonly placement: DatasetPlacement,
    /** Queue submits, counted for the benchmarks. */
    private readonly counts: { submits: number },
    finiteCheck: Kernel,
  ) {
    const { params, state, finiteFlag } = memory.buffers;
    this.check = {
      pipeline: finiteCheck.pipeline,
      group: device.createBindGroup({ label: 'finite check', layout: finiteCheck.layout, entries: [params, state, finiteFlag].map((buffer, b) => ({ binding: b, resource: binding(whole(buffer)) })) }),
      workgroups: Math.min(FINITE_CHECK_GROUPS, Math.ceil(Math.max(params.size, state.size) / 4 / FINITE_CHECK_THREADS)),
    };
    this.rowsUpload = new Uint32Array(placement.chunkSteps * options.batchSize);
    this.stepsUpload = new DataView(new ArrayBuffer(placement.chunkSteps * memory.stepStride));
  }

  /** Writes the batch rows and Step structs of steps `first` ..< `first + count` into the chunk's slots. */
  upload(first: number, count: number): void {
    const { device, memory, placement } = this;
    const { buffers, stepStride } = memory;
    const B = this.options.batchSize;
    const rows = this.rowsUpload.subarray(0, count * B); // (CHUNK, B)
    for (let k = 0; k < count; k++) {
      const step = first + k;
      this.schedule.fill(step, rows, k * B);
      // This step's rate by the schedule; its bias corrections, of step t = step + 1 (1 where the optimizer has none).
      const learningRate = learningRateAt(this.options.learningRate, this.options.schedule, step);
      const corrections = adamCorrections(this.options.optimizer, step + 1);
      packStep(this.stepsUpload, k * stepStride, { rowsOffset: k * B, lossSlot: k, learningRate, ...corrections, index: step, seed: this.options.seed });
    }
    if (placement.streamed) {
      // Upload this chunk's rows themselves, in order; the kernels then read row k·B + b.
      const { input, target } = gatherBatch(this.dataset, rows);
      device.queue.writeBuffer(buffers.dataset, 0, new Float32Array(input));
      device.queue.writeBuffer(buffers.dataset, 4 * placement.targetsOffset, new Float32Array(target));
      for (let k = 0; k < rows.length; k++) rows[k] = k;
    }
    device.queue.writeBuffer(buffers.batchRows, 0, rows);
    device.queue.writeBuffer(buffers.steps, 0, this.stepsUpload.buffer, 0, count * stepStride);
  }

  /**
   * Uploads steps `first` ..< `first + count` (at most a chunk), encodes and submits them a
   * few at a time, the last submit copying their losses out for reading.
   */
  submit(encoder: StepEncoder, first: number, count: number): void {
    const { device, memory } = this;
    const { result: staging, errors } = inScopes(device, () => {
      this.upload(first, count);
      const staging = this.stagingBuffer(count * memory.shares + 1);
      for (let done = 0; done < count; done += encoder.submitSteps) {
        const steps = Math.min(encoder.submitSteps, count - done);
        const commands = device.createCommandEncoder({ label: `steps ${first + done}…${first + done + steps - 1}` });
        encoder.encode(commands, done, steps);
        if (done + steps === count) this.copyLosses(commands, staging, count);
        device.queue.submit([commands.finish()]);
        this.counts.submits++;
      }
      return staging;
    });
    this.inFlight.push({ staging, count, submittedAt: performance.now(), errors, what: `running steps ${first}…${first + count - 1}` });
  }

  /** Keeps the losses of `count` steps that ran outside `submit` (a profiled step), as a chunk of them. */
  keepLosses(count: number): void {
    const { device, memory } = this;
    const { result: staging, errors } = inScopes(device, () => {
      const staging = this.stagingBuffer(count * memory.shares + 1);
      const commands = device.createCommandEncoder({ label: 'step losses' });
      this.copyLosses(commands, staging, count);
      device.queue.submit([commands.finish()]);
      return staging;
    });
    this.inFlight.push({ staging, count, submittedAt: performance.now(), errors, what: 'reading back the losses' });
  }

  /**
   * Records the end of a chunk of `count` steps: the finite check of the parameters and
   * the optimizer state, then the copies of the losses and the check's flag for reading.
   */
  private copyLosses(commands: GPUCommandEncoder, staging: GPUBuffer, count: number): void {
    const { lossHistory, finiteFlag } = this.memory.buffers;
    commands.clearBuffer(finiteFlag);
    const pass = commands.beginComputePass({ label: 'finite check' });
    pass.setPipeline(this.check.pipeline);
    pass.setBindGroup(0, this.check.group);
    pass.dispatchWorkgroups(this.check.workgroups);
    pass.end();
    const lossBytes = 4 * count * this.memory.shares;
    commands.copyBufferToBuffer(lossHistory, 0, staging, 0, lossBytes);
    commands.copyBufferToBuffer(finiteFlag, 0, staging, lossBytes, 4);
  }

  /** Waits, where two chunks are in flight, for the oldest. */
  async makeRoom(): Promise<void> {
    if (this.inFlight.length >= MAX_IN_FLIGHT) await this.finishOldest();
  }

  /** Waits for every chunk in flight. */
  async settle(): Promise<void> {
    while (this.inFlight.length > 0) await this.finishOldest();
  }

  /** The losses read so far, one per step, and forgets them. Call after `settle` for all of them. */
  takeLosses(): Float64Array {
    const losses = concat(this.drained);
    this.drained = [];
    return losses;
  }

  /** Forgets the losses read and not yet taken. */
  dropLosses(): void {
    this.drained = [];
  }

  /** A mappable buffer of at least `floats` floats: a spare one, or a new one. */
  private stagingBuffer(floats: number): GPUBuffer {
    const bytes = f32Bytes(floats);
    const spare = this.spareStaging.findIndex((buffer) => buffer.size >= bytes);
    if (spare >= 0) return this.spareStaging.splice(spare, 1)[0];
    return this.device.createBuffer({ label: 'loss readback', size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /**
   * Waits for the oldest chunk in flight and keeps its losses. Calls queue up (reads may run
   * side by side): each takes the chunk that is oldest when its turn comes, if any is left.
   */
  private finishOldest(): Promise<void> {
    const next = this.finishing.then(() => (this.inFlight.length > 0 ? this.finishOldestNow() : undefined));
    this.finishing = next.catch(() => {});
    return next;
  }

  /** Waits for the oldest chunk in flight (paced) and keeps its losses: each step's shares summed. */
  private async finishOldestNow(): Promise<void> {
    const chunk = this.inFlight[0];
    const S = this.memory.shares;
    const caught = await chunk.errors;
    if (caught.memory || caught.validation) {
      // The chunk did nothing: a buffer it needed could not be made, or a call was refused.
      this.inFlight.shift();
      chunk.staging.destroy();
      throwScopeErrors(caught, chunk.what);
    }
    await this.pacer.wait(chunk.count, chunk.submittedAt, () => chunk.staging.mapAsync(GPUMapMode.READ));
    this.inFlight.shift();
    const mapped = chunk.staging.getMappedRange();
    const shares = new Float32Array(mapped, 0, chunk.count * S); // (count, S)
    const losses = new Float64Array(chunk.count);
    for (let k = 0; k < chunk.count; k++) {
      let sum = 0;
      for (let g = 0; g < S; g++) sum += shares[k * S + g];
      losses[k] = sum;
    }
    // A parameter or state value gone non-finite in the chunk: its last step has no finite result.
    if (new Uint32Array(mapped, 4 * chunk.count * S, 1)[0] !== 0) losses[chunk.count - 1] = NaN;
    chunk.staging.unmap();
    this.spareStaging.push(chunk.staging);
    this.drained.push(losses);
  }

  destroy(): void {
    for (const { staging } of this.inFlight) staging.destroy();
    for (const staging of this.spareStaging) staging.destroy();
    this.inFlight = [];
    this.spareStaging = [];
  }
}

function concat(parts: Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}
