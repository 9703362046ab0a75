// A reporter for Node's test runner that prints nothing: it keeps the file named by
// $LOFT_E2E_RUNNING_FILE listing the tests running at this moment, one a line as
// "file › suite › test", so that tests/run-e2e.sh can name the test that hung when it stops a
// run that passed its time limit. (A test starts when the runner dequeues it; a suite's hooks
// run while only the suite is listed.)

import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';

export default async function* runningTestsReporter(source) {
  const path = process.env.LOFT_E2E_RUNNING_FILE;
  /** test file → the names from its outermost suite down to the test running now. */
  const running = new Map();
  const save = () => {
    if (!path) return;
    const lines = [...running].map(([file, names]) => [relative(process.cwd(), file), ...names].join(' › '));
    writeFileSync(path, lines.length ? `${lines.join('\n')}\n` : '');
  };
  for await (const { type, data } of source) {
    if ((type !== 'test:dequeue' && type !== 'test:complete') || !data.file) continue;
    if (data.name === data.file) {
      // The test file itself, run in a process of its own.
      if (type === 'test:dequeue') running.set(data.file, []);
      else running.delete(data.file);
    } else {
      const names = running.get(data.file) ?? [];
      if (type === 'test:dequeue') {
        names.length = data.nesting;
        names.push(data.name);
      } else if (names[data.nesting] === data.name) {
        names.length = data.nesting;
      }
      running.set(data.file, names);
    }
    save();
  }
}
