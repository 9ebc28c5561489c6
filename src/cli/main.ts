// The command line: webgpu-backprop trace | train | predict | examples | export | import.
//
// Bad input ends the command with one line naming the file, field or flag and what was
// expected, and a non-zero exit; no stack trace.

import { Command, CommanderError, Option } from 'commander';
import { BackpropError, DivergedError, EXPORT_FORMATS, InputError, LOSSES, OPTIMIZER_KINDS } from 'webgpu-backprop/node';
import { resolveExample, WORKED_EXAMPLES } from 'webgpu-backprop/examples';
import { exportModel, importModel } from './exchange.ts';
import { columnList, decayFlag, nonNegativeInteger, nonNegativeNumber, positiveInteger, positiveNumber } from './flags.ts';
import { formatTrace, traceOnCli } from './trace.ts';
import { predict, train } from './train.ts';
import { version } from '../../package.json';

const EXIT_BAD_INPUT = 2;
const EXIT_FAILURE = 1;

/** --backend, said of the command's work: where it trains, or where it predicts. */
const backendOption = (work: string) =>
  new Option('--backend <backend>', `where to ${work}: webgpu, wasm (WebAssembly: float32, SIMD, threads), or cpu for the float64 reference`).choices(['webgpu', 'wasm', 'cpu']).default('webgpu');

export function buildProgram(): Command {
  const program = new Command('webgpu-backprop')
    .description('Dense neural networks trained by backpropagation on WebGPU, checked against a float64 reference.')
    .version(version, '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  program
    .command('examples')
    .description('list the worked examples that trace can show')
    .action(() => {
      for (const e of WORKED_EXAMPLES) console.log(`${e.name.padEnd(12)} article ${e.article} (also ${e.aliases.join(', ')}): ${e.author}, "${e.title}"`);
    });

  program
    .command('trace')
    .description("a worked example step by step in the article's notation: the article, the float64 reference and WebGPU side by side")
    .argument('<example>', 'mazur, hmkcode, lamsal or missinglink (or the article number: 001, 000, 003, 004)')
    .option('--json', 'print the trace as JSON')
    .addOption(new Option('--backend <backend>', 'webgpu shows the reference and the GPU; cpu the reference alone').choices(['webgpu', 'cpu']).default('webgpu'))
    .action(async (name: string, options: { json?: boolean; backend: 'webgpu' | 'cpu' }) => {
      const trace = await traceOnCli(resolveExample(name), options.backend === 'webgpu');
      console.log(options.json ? JSON.stringify(trace, null, 2) : formatTrace(trace));
    });

  program
    .command('train')
    .description('train a model file on a data file, printing the final loss; --out writes the trained model, --checkpoint-every checkpoints to resume from')
    .requiredOption('--model <file>', 'model file (JSON)')
    .requiredOption('--data <file>', 'data file: JSON {"inputs", "targets"} (or "labels", class ids) or CSV')
    .option('--targets <columns>', 'CSV: the target columns, comma-separated', columnList)
    .option('--labels <column>', 'CSV: the column of class labels, instead of target columns: ids (0 … outputs − 1), or names (ids by sorted name, or by the model\'s "classes"; --out keeps the names as "classes")')
    .addOption(backendOption('train'))
    .option('--lr <rate>', 'learning rate (default 0.01; 0.001 with adam)', positiveNumber)
    .option('--steps <n>', 'training steps (one batch each)', positiveInteger)
    .option('--epochs <n>', 'passes over the data (default 1)', positiveInteger)
    .option('--batch-size <n>', 'samples per step (default 32, or the dataset if smaller)', positiveInteger)
    .option('--shuffle', 'shuffle the rows anew each epoch (the default)')
    .option('--no-shuffle', 'take batches in data order, wrapping around, instead of shuffling each epoch')
    .option('--seed <n>', 'seed of the shuffling', nonNegativeInteger, 1)
    .addOption(new Option('--optimizer <name>', 'update rule').choices(OPTIMIZER_KINDS as string[]).default('sgd'))
    .option('--lr-schedule <schedule>', 'step:S:G (× G every S steps), exponential:G (× G a step) or cosine:T (to 0 over T steps)', decayFlag)
    .option('--lr-warmup <n>', 'raise the learning rate linearly over the first n steps', positiveInteger)
    .option('--weight-decay <d>', "weight decay, PyTorch's weight_decay (default 0; 0.01 with adamw, decoupled)", nonNegativeNumber)
    .option('--clip-norm <c>', "clip each batch's gradient to this global norm (clip_grad_norm_)", positiveNumber)
    .option('--out <file>', 'write the trained model here (same form as --model), once training has succeeded')
    .option('--checkpoint-every <n>', 'write a checkpoint every n steps', positiveInteger)
    .option('--checkpoint <file>', 'the checkpoint file (default: beside --out)')
    .option('--resume', 'continue from the checkpoint file')
    .action(async (options) => {
      const result = await train({ ...options, progress: Boolean(process.stderr.isTTY) });
      if (result.adapter) console.log(`WebGPU adapter: ${result.adapter}`);
      console.log(`trained ${result.steps} steps`);
      console.log(`final loss ${result.lastLoss} (the last step's batch); ${result.datasetLoss} over the whole data file`);
      if (options.out) console.log(`wrote ${options.out}`);
    });

  program
    .command('predict')
    .description("print a model's outputs for the inputs of a data file, one row of outputs per row of inputs, as JSON; with the model's \"classes\", each row's predicted class too (\"predicted\")")
    .requiredOption('--model <file>', 'model file (JSON)')
    .requiredOption('--data <file>', 'data file: JSON {"inputs"} or CSV')
    .option('--targets <columns>', 'CSV: columns to leave out (targets), comma-separated', columnList)
    .option('--labels <column>', 'CSV: a column of class labels to leave out')
    .addOption(backendOption('predict'))
    .option('--out <file>', 'write the outputs here instead of printing them')
    .action(async (options) => {
      const text = await predict(options);
      if (!options.out) process.stdout.write(text);
    });

  program
    .command('export')
    .description('write a model file for another engine: ONNX, TensorFlow.js (layers format) or PyTorch (a folder with train.py)')
    .requiredOption('--model <file>', 'model file (JSON)')
    .addOption(new Option('--format <format>', 'onnx: one .onnx file; tfjs: model.json and weights.bin; pytorch: model.json, train.py and defaults.json').choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .requiredOption('--out <path>', 'the .onnx file, or the folder for tfjs and pytorch')
    .action(async (options) => {
      for (const path of await exportModel(options)) console.log(`wrote ${path}`);
    });

  program
    .command('import')
    .description('read an ONNX model or a TensorFlow.js model.json (Dense layers) as a model file')
    .requiredOption('--from <file>', 'the .onnx file, or model.json with its weight files beside it')
    .requiredOption('--out <file>', 'the model file to write')
    .addOption(new Option('--loss <loss>', 'the loss, where the file does not record it (files this tool exports do)').choices([...LOSSES]))
    .action(async (options) => {
      const described = await importModel(options);
      console.log(`wrote ${options.out}: ${described}`);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its one line (usage errors) or the help text already.
      return error.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    }
    if (error instanceof InputError) {
      console.error(`webgpu-backprop: ${error.message}`);
      return EXIT_BAD_INPUT;
    }
    if (error instanceof DivergedError) {
      // A step's values went non-finite on checked data: the learning rate is the usual cause.
      console.error(`webgpu-backprop: ${error.message}${error.step === undefined ? '' : ' (try a smaller --lr)'}`);
      return EXIT_FAILURE;
    }
    if (error instanceof BackpropError) {
      console.error(`webgpu-backprop: ${error.message}`);
      return EXIT_FAILURE;
    }
    console.error(`webgpu-backprop: ${(error as Error).message ?? error}`);
    if (process.env.WEBGPU_BACKPROP_DEBUG) console.error((error as Error).stack);
    return EXIT_FAILURE;
  }
}
