// Sums the Counters of every TRX file under a directory and prints "N passed, N failed, N skipped".
// Exit code: 0 when at least one test ran and none failed, 1 otherwise.
const fs = require('fs');
const path = require('path');
const dir = process.argv[2] || 'TestResults';
const files = [];
(function walk(d) {
  if (!fs.existsSync(d)) return;
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p); else if (e.name.endsWith('.trx')) files.push(p);
  }
})(dir);
let passed = 0, failed = 0, skipped = 0;
for (const f of files) {
  const m = /<Counters\b([^>]*)\/?>/.exec(fs.readFileSync(f, 'utf8'));
  if (!m) continue;
  const attr = (n) => { const a = new RegExp('\\b' + n + '="(\\d+)"').exec(m[1]); return a ? parseInt(a[1], 10) : 0; };
  passed += attr('passed');
  failed += attr('failed') + attr('error') + attr('timeout') + attr('aborted');
  // A skipped xunit test is a result with outcome NotExecuted, but the Counters' notExecuted stays 0: take total - executed.
  skipped += Math.max(attr('notExecuted'), attr('total') - attr('executed'));
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(files.length > 0 && passed > 0 && failed === 0 ? 0 : 1);
