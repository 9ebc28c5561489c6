// The formulas of a worked example's values, written as the articles write them: the
// symbols, then the same expression with the numbers filled in, then the result:
//
//   net_h1 = w1·i1 + w2·i2 + b1·1 = 0.15·0.05 + 0.2·0.1 + 0.35 = 0.3775
//
// Numbers are shown to nine decimals at most, as the articles print them.

import type { Activation } from '../model/model.ts';
import { ACTIVATION_OPS, type Shown } from '../model/ops/activations.ts';

/** A number as a formula shows it: at most nine decimals (nine significant digits below 0.001), no trailing zeros. */
export function formatOperand(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const shown = Math.abs(value) >= 1e-3 || value === 0 ? Number(value.toFixed(9)) : Number(value.toPrecision(9));
  return String(shown === 0 ? 0 : shown);
}

/** A factor in a product: negative numbers in parentheses. */
function factor(value: number): string {
  const text = formatOperand(value);
  return value < 0 ? `(${text})` : text;
}

/** `symbol = symbolic = numeric = result`. */
function formula(symbol: string, symbolic: string, numeric: string, result: number): string {
  return `${symbol} = ${symbolic} = ${numeric} = ${formatOperand(result)}`;
}

/** A value and the name the article gives it. */
export interface Named {
  symbol: string;
  value: number;
}

/** A neuron's net input: Σ w·in, plus its bias (written b·1, as the bias input is 1). */
export function netFormula(symbol: string, terms: { weight: Named; input: Named }[], bias: Named | undefined, result: number): string {
  const symbolic = terms.map((t) => `${t.weight.symbol}·${t.input.symbol}`);
  const numeric = terms.map((t) => `${factor(t.weight.value)}·${factor(t.input.value)}`);
  if (bias) {
    symbolic.push(`${bias.symbol}·1`);
    numeric.push(formatOperand(bias.value));
  }
  return formula(symbol, symbolic.join(' + '), numeric.join(' + '), result);
}

/** A named value as a formula shows it: its symbol (symbolic), or its number (numeric). */
function shown(named: Named, symbolic: boolean): Shown {
  return symbolic ? { text: named.symbol, factor: named.symbol, symbolic } : { text: formatOperand(named.value), factor: factor(named.value), symbolic };
}

/** A neuron's output from its net input, as its activation's record writes it; softmax takes the whole layer's net inputs. */
export function outFormula(symbol: string, activation: Activation, net: Named, layerNets: Named[], result: number, parameter = 0): string {
  const out = ACTIVATION_OPS[activation].formula.out;
  if (!out) return `${symbol} = ${net.symbol} = ${formatOperand(result)}`;
  const written = (symbolic: boolean) => out(shown(net, symbolic), layerNets.map((n) => shown(n, symbolic)), parameter);
  return formula(symbol, written(true), written(false), result);
}

/** The slope ∂out/∂net of an activation, as its record writes it: from the neuron's output, as the articles do, or its net input. */
export function slopeTerms(activation: Activation, out: Named, net: Named, parameter = 0): { symbolic: string; numeric: string } {
  const slope = ACTIVATION_OPS[activation].formula.slope;
  return { symbolic: slope(shown(out, true), shown(net, true), parameter), numeric: slope(shown(out, false), shown(net, false), parameter) };
}

/** ∂out/∂net = its slope. */
export function slopeFormula(symbol: string, activation: Activation, out: Named, net: Named, result: number, parameter = 0): string {
  const { symbolic, numeric } = slopeTerms(activation, out, net, parameter);
  return symbolic === numeric ? `${symbol} = ${symbolic}` : formula(symbol, symbolic, numeric, result);
}

/** One output's error, ½(target − out)². */
export function errorFormula(symbol: string, target: Named, out: Named, result: number): string {
  return formula(symbol, `½(${target.symbol} − ${out.symbol})²`, `½(${formatOperand(target.value)} − ${formatOperand(out.value)})²`, result);
}

/** A sum of named values (E_total = E_o1 + E_o2). */
export function sumFormula(symbol: string, terms: Named[], result: number): string {
  if (terms.length === 1) return `${symbol} = ${terms[0].symbol} = ${formatOperand(result)}`;
  return formula(symbol, terms.map((t) => t.symbol).join(' + '), terms.map((t) => factor(t.value)).join(' + '), result);
}

/** ∂E/∂out = −(target − out), the half-sse loss's gradient. */
export function errorGradientFormula(symbol: string, target: Named, out: Named, result: number): string {
  return formula(symbol, `−(${target.symbol} − ${out.symbol})`, `−(${formatOperand(target.value)} − ${formatOperand(out.value)})`, result);
}

/** A product of named values (δ_o1 = ∂E/∂out_o1 · ∂out_o1/∂net_o1, ∂E/∂w5 = δ_o1·out_h1). */
export function productFormula(symbol: string, factors: Named[], result: number): string {
  return formula(symbol, factors.map((f) => f.symbol).join('·'), factors.map((f) => factor(f.value)).join('·'), result);
}

/** A hidden neuron's delta: the deltas above it carried back through their weights, times its slope. */
export function hiddenDeltaFormula(symbol: string, terms: { delta: Named; weight: Named }[], slope: { symbolic: string; numeric: string }, result: number): string {
  const symbolic = terms.map((t) => `${t.delta.symbol}·${t.weight.symbol}`).join(' + ');
  const numeric = terms.map((t) => `${factor(t.delta.value)}·${factor(t.weight.value)}`).join(' + ');
  // A linear neuron's slope is 1: nothing to multiply by.
  if (slope.symbolic === '1') return formula(symbol, symbolic, numeric, result);
  return formula(symbol, `(${symbolic})·${slope.symbolic}`, `(${numeric})·${slope.numeric}`, result);
}

/**
 * Gradient descent: the parameter less the learning rate times its gradient; with a weight
 * decay λ (L2), the gradient carries λ times the parameter: w⁺ = w − η·(∂E/∂w + λ·w).
 */
export function updateFormula(symbol: string, parameter: Named, learningRate: number, gradient: Named, result: number, weightDecay = 0): string {
  if (weightDecay === 0) return formula(symbol, `${parameter.symbol} − η·${gradient.symbol}`, `${formatOperand(parameter.value)} − ${formatOperand(learningRate)}·${factor(gradient.value)}`, result);
  return formula(
    symbol,
    `${parameter.symbol} − η·(${gradient.symbol} + λ·${parameter.symbol})`,
    `${formatOperand(parameter.value)} − ${formatOperand(learningRate)}·(${factor(gradient.value)} + ${formatOperand(weightDecay)}·${factor(parameter.value)})`,
    result,
  );
}
