// Mocha's spec reporter, plus the one plain closing line CI reads: "N passed, N failed".
const Mocha = require('mocha');
const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      const skipped = pending ? `, ${pending} skipped` : '';
      // After the spec reporter's own epilogue.
      process.nextTick(() => console.log(`\n${passes} passed, ${failures} failed${skipped}`));
    });
  }
}
module.exports = SummaryReporter;
