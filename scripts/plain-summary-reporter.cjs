// Prints jest's totals as one plain line ("jest: N passed, N failed, N skipped") as the very last
// output, a format CI reads the same way whatever the test runner. Written at process exit so it
// follows jest's own summary.
class PlainSummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `jest: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`;
    process.once('exit', () => process.stdout.write(line));
  }
}
module.exports = PlainSummaryReporter;
