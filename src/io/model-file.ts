// Reading a model file (its form, and the writer, are in model-format.ts). Files may come
// from anywhere, so they are parsed as data only (JSON.parse, never evaluated), checked
// against a schema, and their sizes bounded before anything is allocated for them.

import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { FLOAT32_MAX } from '../data/values.ts';
import { InputError } from '../errors.ts';
import { ACTIVATIONS, LOSSES } from '../model/model.ts';
import { ACTIVATION_PARAMETER_FIELDS, type ActivationParameterField } from '../model/ops/activations.ts';
import type { Model } from '../model/network.ts';
import { parseJson, zodError } from './json.ts';
import { declareDescription, type ModelDeclaration } from './model-declaration.ts';
import { MODEL_LIMITS, type ModelFile } from './model-format.ts';

export { MODEL_LIMITS, modelToJson, type LayerFile, type ModelFile } from './model-format.ts';
export type { ModelDeclaration } from './model-declaration.ts';

// zod's small build (its functions tree-shake): this module loads with the first network
// made from a description. Its messages are zod's English ones.
z.config(en());

/** A weight or bias: the GPU holds it as a float32. */
const parameter = z.number().check(z.refine((value) => Math.abs(value) <= FLOAT32_MAX, `expected a number float32 can hold (|x| ≤ ${FLOAT32_MAX})`));
const count = (max: number) => z.number().check(z.int(), z.positive(), z.maximum(max));

/** The layer fields of the activations' parameters (leaky-relu's negativeSlope, say): checked against the activation by checkSpec. */
const optionalNumber = z.optional(z.number());
const activationParameters = Object.fromEntries(ACTIVATION_PARAMETER_FIELDS.map((field) => [field, optionalNumber])) as Record<ActivationParameterField, typeof optionalNumber>;

const layerSchema = z.strictObject({
  activation: z.enum(ACTIVATIONS),
  ...activationParameters,
  dropout: optionalNumber,
  units: z.optional(count(MODEL_LIMITS.units)),
  weights: z.optional(z.array(z.array(parameter))),
  biases: z.optional(z.array(parameter)),
});

const modelFileSchema = z.strictObject({
  loss: z.enum(LOSSES),
  trainBiases: z.optional(z.boolean()),
  inputSize: z.optional(count(MODEL_LIMITS.units)),
  seed: z.optional(z.union([z.number(), z.string()])),
  layers: z.array(layerSchema).check(z.minLength(1), z.maxLength(MODEL_LIMITS.layers)),
  inputScaling: z.optional(z.strictObject({ mean: z.array(z.number()).check(z.maxLength(MODEL_LIMITS.units)), std: z.array(z.number()).check(z.maxLength(MODEL_LIMITS.units)) })),
  classes: z.optional(z.array(z.string()).check(z.maxLength(MODEL_LIMITS.units))),
});

// The schema accepts exactly the interfaces of model-format.ts (checked by the compiler both ways).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const schemaMatchesModelFile: Same<z.input<typeof modelFileSchema>, ModelFile> = true;
void schemaMatchesModelFile;

/** Parses a model file's text; `source` names it in errors (a path, or an upload's name). */
export function parseModelFile(text: string, source: string): Model {
  return parseModelDeclaration(text, source).create();
}

/** Parses a model file's text into a declaration, allocating nothing for its parameters. */
export function parseModelDeclaration(text: string, source: string): ModelDeclaration {
  if (text.length > MODEL_LIMITS.fileBytes) {
    throw new InputError(source, `the file is larger than the ${MODEL_LIMITS.fileBytes / 2 ** 20} MiB a model file may be`);
  }
  return declareModel(parseJson(text, source), source);
}

/** Checks parsed JSON and builds the model it describes. */
export function modelFromJson(json: unknown, source: string): Model {
  return declareModel(json, source).create();
}

/** Checks parsed JSON: the schema, the shapes and the limits, before anything is allocated. */
export function declareModel(json: unknown, source: string): ModelDeclaration {
  const parsed = modelFileSchema.safeParse(json);
  if (!parsed.success) throw zodError(parsed.error, source);
  return declareDescription(parsed.data, source, true);
}
