// The float64 reference against every number the seed articles print.

import { describe, expect, it } from 'vitest';
import { WORKED_EXAMPLES } from '../src/examples/articles.ts';
import { agreesAtPrintedPrecision, caseSetup, printedQuantity, recordStep, traceRows } from '../src/examples/worked-example.ts';
import { CpuTrainer } from '../src/reference/trainer.ts';

for (const example of WORKED_EXAMPLES) {
  describe(`article ${example.article} (${example.name})`, () => {
    example.cases.forEach((workedCase) => {
      it(`reproduces every printed value: ${workedCase.title}`, async () => {
        const { model, dataset, options } = caseSetup(workedCase);
        const step = await recordStep(new CpuTrainer(model, dataset, options), model, workedCase.longRun);
        const rows = traceRows(workedCase, step);
        const report = workedCase.printed.map((p) => {
          const value = printedQuantity(p, rows, step);
          return { symbol: p.symbol, printed: p.printed, value, agrees: agreesAtPrintedPrecision(value, p.printed, workedCase.rounding), erratum: p.erratum };
        });
        // Every printed value agrees at its printed precision, except the ones docs/errata.md lists.
        const disagreeing = report.filter((r) => !r.agrees);
        expect(disagreeing.map((r) => r.symbol)).toEqual(report.filter((r) => r.erratum).map((r) => r.symbol));
      });
    });
  });
}
