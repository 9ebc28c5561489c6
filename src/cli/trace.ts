// `webgpu-backprop trace <example>`: a worked example step by step in the article's
// notation, the article's printed value, the float64 reference and the GPU side by side.

import { traceExample, type ExampleTrace, type WorkedExample } from 'webgpu-backprop/examples';
import { openCliDevice } from './gpu.ts';

export async function traceOnCli(example: WorkedExample, withGpu: boolean): Promise<ExampleTrace> {
  const gpu = withGpu ? await openCliDevice() : undefined;
  const trace = await traceExample(example, gpu && { device: await gpu.keeper.current(), adapter: gpu.adapter });
  gpu?.keeper.destroy();
  return trace;
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text + ' '.repeat(width - text.length);
}

function formatNumber(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude < 1e-4 || magnitude >= 1e6 ? value.toExponential(9) : value.toFixed(12);
}

export function formatTrace(trace: ExampleTrace): string {
  const out: string[] = [];
  out.push(`Article ${trace.article}: ${trace.author}, "${trace.title}"`);
  if (trace.adapter) out.push(`WebGPU adapter: ${trace.adapter}`);
  for (const c of trace.cases) {
    out.push('', c.title);
    for (const line of c.setup) out.push(`  ${line}`);
    const symbolWidth = Math.max(...c.lines.map((l) => l.symbol.length)) + 2;
    const articleWidth = Math.max(9, ...c.lines.map((l) => (l.article?.length ?? 0) + 2)) + 1;
    const hasGpu = c.lines.some((l) => l.webgpu !== undefined);
    let section = '';
    for (const line of c.lines) {
      if (line.section !== section) {
        section = line.section;
        const header = `  ${pad(section, symbolWidth + 2)}${pad('article', articleWidth)}${pad('reference (float64)', 22)}${hasGpu ? `${pad('webgpu (float32)', 22)}|ref − gpu|` : ''}`;
        out.push('', header);
      }
      const mark = line.article === undefined ? '' : line.agrees ? ' ✓' : ' ✗';
      let text = `    ${pad(line.symbol, symbolWidth)}${pad((line.article ?? '') + mark, articleWidth)}${pad(formatNumber(line.reference), 22)}`;
      if (hasGpu && line.webgpu !== undefined) text += `${pad(formatNumber(line.webgpu), 22)}${line.difference!.toExponential(1)}`;
      if (line.erratum) text += `   erratum: ${line.erratum}`;
      out.push(text.trimEnd());
    }
  }
  out.push('', '✓ the reference agrees with the article at the precision printed; ✗ it does not (see the erratum).');
  return out.join('\n');
}

