// Time limits for the end-to-end tests. Every `it` and every hook passes one as its options, so
// a test that hangs fails on its own, with its name, and the run goes on:
//
//   it('plays a song', TEST_LIMIT, async () => { … });
//   before(async () => { … }, HOOK_LIMIT);
//
// (Node's --test-timeout would also limit each test file as a whole, and a wrapper around `it`
// would make Node report every failure at the wrapper's line, so the limit is passed openly.)
// tests/run-e2e.sh limits the whole run as well, and names the test still running if it stops it.
//
// The slowest test takes about 20 s and the slowest hook (the cloud test's: audio files, an S3
// server and the app) about 10 s on a 2-core machine; the limits leave room for a loaded one.

export const TEST_LIMIT = Object.freeze({ timeout: 120_000 });
export const HOOK_LIMIT = Object.freeze({ timeout: 120_000 });
