/**
 * Mocha's spec reporter, plus the closing line CI reads: "tests: N passed, N failed".
 */
import Mocha from 'mocha';

class SlipwayReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const s = runner.stats ?? this.stats;
      const skipped = s.pending ? `, ${s.pending} skipped` : '';
      // After the spec reporter's own epilogue.
      setImmediate(() => console.log(`\ntests: ${s.passes} passed, ${s.failures} failed${skipped}`));
    });
  }
}

export = SlipwayReporter;
