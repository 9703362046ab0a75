#!/usr/bin/env node
// The player window's benchmark (issue #7): the release app on a 100,000-track profile, driven
// through tauri-driver like the end-to-end tests. It measures launch to the first song rows,
// keystroke to search results painted, jumps and continuous scrolling in the virtualized song
// list, and the memory of the app's processes while idle. Speed targets live here, never in
// the timed tests. Run it through scripts/bench-ui.sh, which builds the app and the profile.
//
// Environment: LOFT_APP_BINARY (the release app), LOFT_BENCH_PROFILE (a profile directory with
// the library scanned), LOFT_BENCH_LAUNCHES (default 5), LOFT_BENCH_IDLE_SECONDS (default 10),
// LOFT_BENCH_RESULTS (write every figure there as JSON too). For experiments:
// LOFT_BENCH_ONLY=launch skips scrolling and search; LOFT_BENCH_APP_ENV='{"NAME":"value"}' adds
// to the app's environment (say, WebKit's WEBKIT_DISABLE_COMPOSITING_MODE).

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename } from 'node:path';
import { appBinary, launchApp, repoRoot } from '../e2e/lib/app.mjs';

const profileDir = process.env.LOFT_BENCH_PROFILE;
const launches = Number(process.env.LOFT_BENCH_LAUNCHES ?? 5);
const idleSeconds = Number(process.env.LOFT_BENCH_IDLE_SECONDS ?? 10);
const resultsPath = process.env.LOFT_BENCH_RESULTS;
const only = process.env.LOFT_BENCH_ONLY;
const appEnv = JSON.parse(process.env.LOFT_BENCH_APP_ENV ?? '{}');
// Typed one key at a time; every keystroke that changes what the results show is a sample.
const QUERIES = (process.env.LOFT_BENCH_QUERIES ?? 'beyonce|sigur ros|love|night sky 12|zoe|cafe tac|golden river|b')
  .split('|');
// Where the song list is jumped to, as shares of its length: rows 0, 10,000, 50,000 and 99,000
// of 100,000.
const DEPTH_SHARES = [0, 0.1, 0.5, 0.99];

if (!profileDir || !existsSync(profileDir)) {
  console.error('LOFT_BENCH_PROFILE must name a profile directory with a scanned library (see scripts/bench-ui.sh)');
  process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const results = {
  date: new Date().toISOString(),
  machine: `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  loadAverageAtStart: os.loadavg(),
  appBinary,
  commit: git(['rev-parse', '--short', 'HEAD']),
  launches: [],
};

function git(args) {
  try {
    return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function quantile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const fmt = (ms) => (Number.isFinite(ms) ? `${ms.toFixed(1)} ms` : 'n/a');
const summary = (values) => ({
  n: values.length,
  median: quantile(values, 0.5),
  p95: quantile(values, 0.95),
  max: values.length ? Math.max(...values) : NaN,
});
const fmtSummary = (s) => `median ${fmt(s.median)}, p95 ${fmt(s.p95)}, max ${fmt(s.max)} (n=${s.n})`;

// ---------------------------------------------------------------------------------------------
// In-page scripts. They run in the webview, so their clocks are the page's own
// (performance.now(), ms since the page's navigation started).

const ROWS = '[data-testid="track-row"][data-track-id]';

/** Resolves once song rows with data are in the DOM, at the next animation frame. */
const WAIT_FOR_ROWS = `
  const done = arguments[arguments.length - 1];
  const selector = ${JSON.stringify(ROWS)};
  const finish = (already) => requestAnimationFrame(() => {
    const painted = performance.now();
    const nav = performance.getEntriesByType('navigation')[0];
    done({
      already,
      painted,
      dateNow: Date.now(),
      timeOrigin: performance.timeOrigin,
      nav: nav ? { responseEnd: nav.responseEnd, domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd } : null,
      paints: performance.getEntriesByType('paint').map((e) => ({ name: e.name, start: e.startTime })),
      rows: document.querySelectorAll(selector).length,
      domRows: document.querySelectorAll('[data-testid="track-row"]').length,
    });
  });
  if (document.querySelector(selector)) {
    finish(true);
  } else {
    const observer = new MutationObserver(() => {
      if (document.querySelector(selector)) {
        observer.disconnect();
        finish(false);
      }
    });
    observer.observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-track-id'] });
  }
`;

/**
 * Wraps fetch, which Tauri's IPC uses on Linux (POST ipc://localhost/<command>), to log every
 * command: when it was sent, when its answer arrived, its size and its arguments.
 */
const INSTALL_IPC_LOG = `
  if (!window.__loftBench) {
    const log = [];
    const original = window.fetch;
    window.__loftBench = { log };
    window.fetch = function (input, init) {
      const url = typeof input === 'string' ? input : input.url;
      const started = performance.now();
      const answer = original.apply(this, arguments);
      if (!url.startsWith('ipc:') && !url.includes('ipc.localhost')) return answer;
      const entry = { cmd: decodeURIComponent(url.split('/').pop()), start: started, request: typeof init?.body === 'string' ? init.body.slice(0, 200) : null };
      log.push(entry);
      return answer.then((response) => {
        entry.headers = performance.now();
        response.clone().arrayBuffer().then((body) => {
          entry.bytes = body.byteLength;
          entry.end = performance.now();
        });
        return response;
      });
    };
  }
  return window.fetch !== undefined && !!window.__loftBench;
`;

/** Starts watching the main view before a keystroke: the key's time and every DOM change. */
const ARM_SEARCH = `
  const view = document.querySelector('[data-testid="main-view"]');
  const input = document.querySelector('[data-testid="search"]');
  const results = document.querySelector('[data-testid="search-results"]');
  const state = { key: null, keyHandler: null, mutations: [], frames: [], ipcFrom: window.__loftBench.log.length,
    before: results ? results.innerText : null };
  input.addEventListener('keydown', (e) => {
    state.keyHandler = performance.now();
    // WebKit's event.timeStamp is on the performance.now() clock; older engines used epoch ms.
    state.key = e.timeStamp > 1e12 ? e.timeStamp - performance.timeOrigin : e.timeStamp;
  }, { capture: true, once: true });
  state.observer = new MutationObserver(() => {
    const at = performance.now();
    state.mutations.push(at);
    requestAnimationFrame(() => state.frames.push([at, performance.now()]));
  });
  state.observer.observe(view, { childList: true, subtree: true, characterData: true, attributes: true });
  window.__loftSearch = state;
  return true;
`;

/**
 * Waits until the main view has been quiet for a while after the keystroke, then reports: the
 * search command's round trip, the first DOM change after its answer arrived (the results
 * rendering) and the animation frame after it (the frame that paints them).
 */
const SETTLE_SEARCH = `
  const done = arguments[arguments.length - 1];
  const state = window.__loftSearch;
  const QUIET = 400;
  const check = () => {
    const now = performance.now();
    const last = Math.max(state.key ?? 0, state.keyHandler ?? 0, ...state.mutations);
    const searches = window.__loftBench.log.slice(state.ipcFrom).filter((e) => e.cmd === 'search');
    const pending = searches.some((e) => e.end === undefined);
    if (state.key === null || pending || now - last < QUIET) {
      if (now - (state.keyHandler ?? now) > 10000) return done({ timeout: true });
      return setTimeout(check, 50);
    }
    state.observer.disconnect();
    const ipc = searches[searches.length - 1] ?? null;
    const render = ipc ? state.mutations.find((t) => t >= ipc.headers) : undefined;
    const frame = render === undefined ? undefined : state.frames.find(([at]) => at === render)?.[1];
    const results = document.querySelector('[data-testid="search-results"]');
    done({
      key: state.key,
      keyHandler: state.keyHandler,
      ipc,
      searchCalls: searches.length,
      render,
      painted: frame,
      changed: (results ? results.innerText : null) !== state.before,
      rows: results ? results.querySelectorAll('[data-testid="track-row"]').length : 0,
      domNodes: document.getElementsByTagName('*').length,
    });
  };
  setTimeout(check, 50);
`;

/** Jumps the song list to row `index`; resolves at the frame after that row shows its data. */
const JUMP_TO_ROW = `
  const [index, done] = arguments;
  const grid = document.querySelector('[data-testid="song-list"]');
  const any = grid.querySelector('[data-testid="track-row"]');
  const rowHeight = any ? any.getBoundingClientRect().height : 34;
  const ipcFrom = window.__loftBench.log.length;
  const started = performance.now();
  grid.scrollTop = index * rowHeight;
  const check = () => {
    const row = document.getElementById('song-row-' + index);
    if (row && row.hasAttribute('data-track-id')) {
      requestAnimationFrame(() => {
        const ipc = window.__loftBench.log.slice(ipcFrom);
        done({
          ms: performance.now() - started,
          rowHeight,
          domRows: grid.querySelectorAll('[data-testid="track-row"]').length,
          domNodes: document.getElementsByTagName('*').length,
          ipc: ipc.map((e) => ({ cmd: e.cmd, request: e.request, ms: (e.end ?? NaN) - e.start, bytes: e.bytes })),
        });
      });
    } else if (performance.now() - started > 10000) {
      done({ timeout: true });
    } else {
      requestAnimationFrame(check);
    }
  };
  requestAnimationFrame(check);
`;

/**
 * Scrolls the song list continuously at \`speed\` px/s for \`seconds\`, moving it every animation
 * frame as a fling or a scrollbar drag would, and records each frame's interval and how many
 * of the rows in view were still placeholders (their page not loaded yet).
 */
const CONTINUOUS_SCROLL = `
  const [speed, seconds, done] = arguments;
  const grid = document.querySelector('[data-testid="song-list"]');
  const ipcFrom = window.__loftBench.log.length;
  grid.scrollTop = 0;
  const intervals = [];
  let framesWithBlanks = 0;
  let frames = 0;
  let maxDomRows = 0;
  let previous = null;
  const started = performance.now();
  const step = (now) => {
    if (previous !== null) intervals.push(now - previous);
    const dt = previous === null ? 0 : now - previous;
    previous = now;
    const view = grid.getBoundingClientRect();
    let blanks = 0;
    const rows = grid.querySelectorAll('[data-testid="track-row"]');
    maxDomRows = Math.max(maxDomRows, rows.length);
    for (const row of rows) {
      if (row.hasAttribute('data-track-id')) continue;
      const box = row.getBoundingClientRect();
      if (box.bottom > view.top && box.top < view.bottom) blanks += 1;
    }
    frames += 1;
    if (blanks > 0) framesWithBlanks += 1;
    if (now - started >= seconds * 1000 || grid.scrollTop + grid.clientHeight >= grid.scrollHeight) {
      const ipc = window.__loftBench.log.slice(ipcFrom);
      return done({ intervals, frames, framesWithBlanks, maxDomRows, endTop: grid.scrollTop,
        ipcCalls: ipc.length, ipcBytes: ipc.reduce((sum, e) => sum + (e.bytes ?? 0), 0),
        maxIpcBytes: Math.max(0, ...ipc.map((e) => e.bytes ?? 0)) });
    }
    grid.scrollTop += (speed * dt) / 1000;
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
`;

// ---------------------------------------------------------------------------------------------
// Memory: every process of the app, from /proc.

function processTable() {
  const table = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // comm is in parentheses and may hold spaces; the fields after it are fixed.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      table.set(Number(name), { pid: Number(name), ppid, comm });
    } catch {
      // The process ended while we looked.
    }
  }
  return table;
}

function descendants(table, root) {
  const out = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    for (const p of table.values()) {
      if (p.ppid === pid) {
        out.push(p);
        stack.push(p.pid);
      }
    }
  }
  return out;
}

// The kernel keeps 15 characters of a process's name.
const appComm = basename(appBinary).slice(0, 15);

function findApp(table, driverPid) {
  const app = descendants(table, driverPid).find((p) => p.comm === appComm);
  if (!app) throw new Error(`no ${appComm} process under tauri-driver`);
  return app;
}

/** When process `pid` started, in ms since the epoch (to the kernel's 10 ms clock ticks). */
function processStartedAt(pid) {
  const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return Date.now() - (uptime - startTicks / ticksPerSecond) * 1000;
}

function kib(text, field) {
  const match = text.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return match ? Number(match[1]) : 0;
}

/** RSS and PSS of the app process and all its descendants (the WebKit processes). */
function appMemory(driverPid) {
  const table = processTable();
  const app = findApp(table, driverPid);
  const processes = [app, ...descendants(table, app.pid)].map((p) => {
    const m = { rssKiB: 0, pssKiB: 0, ussKiB: 0, anonKiB: 0, fileKiB: 0, shmemKiB: 0 };
    try {
      const status = readFileSync(`/proc/${p.pid}/status`, 'utf8');
      const rollup = readFileSync(`/proc/${p.pid}/smaps_rollup`, 'utf8');
      m.rssKiB = kib(status, 'VmRSS');
      m.anonKiB = kib(status, 'RssAnon');
      m.fileKiB = kib(status, 'RssFile');
      m.shmemKiB = kib(status, 'RssShmem');
      m.pssKiB = kib(rollup, 'Pss');
      // Unique set size: the pages only this process maps, what ending it would free.
      m.ussKiB = kib(rollup, 'Private_Clean') + kib(rollup, 'Private_Dirty');
    } catch {
      // Gone, or not ours to read.
    }
    let cmd = p.comm;
    try {
      cmd = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0')[0].split('/').pop() || p.comm;
    } catch {
      // Keep comm.
    }
    return { pid: p.pid, name: cmd, ...m };
  });
  const total = (key) => processes.reduce((s, p) => s + p[key], 0);
  return {
    processes,
    rssKiB: total('rssKiB'),
    pssKiB: total('pssKiB'),
    ussKiB: total('ussKiB'),
    anonKiB: total('anonKiB'),
    fileKiB: total('fileKiB'),
    shmemKiB: total('shmemKiB'),
  };
}

const mib = (k) => `${(k / 1024).toFixed(1)} MiB`;
const describeMemory = (m) =>
  `RSS ${mib(m.rssKiB)} (anonymous ${mib(m.anonKiB)}, file ${mib(m.fileKiB)}, shmem ${mib(m.shmemKiB)}), PSS ${mib(m.pssKiB)}, USS ${mib(m.ussKiB)}; ` +
  `per process RSS/PSS/USS: ${m.processes.map((p) => `${p.name} ${mib(p.rssKiB)}/${mib(p.pssKiB)}/${mib(p.ussKiB)}${p.cpuPercent === undefined ? '' : ` (CPU ${p.cpuPercent.toFixed(0)} %)`}`).join(', ')}`;

/** CPU time (user + system, in clock ticks) each process of the app has used so far. */
function cpuTicks(driverPid) {
  const table = processTable();
  const app = findApp(table, driverPid);
  const ticks = new Map();
  for (const p of [app, ...descendants(table, app.pid)]) {
    try {
      const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(p.pid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // Gone.
    }
  }
  return ticks;
}

async function idleMemory(app, seconds) {
  const samples = [];
  const ticksBefore = cpuTicks(app.driverPid);
  const started = Date.now();
  for (let s = 0; s < seconds; s++) {
    await sleep(1000);
    samples.push(appMemory(app.driverPid));
  }
  const ticksAfter = cpuTicks(app.driverPid);
  const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  // Share of one core the app's processes used while nobody touched it.
  const percent = (ticks) => (100 * ticks) / ticksPerSecond / ((Date.now() - started) / 1000);
  let used = 0;
  const last = samples[samples.length - 1];
  for (const [pid, after] of ticksAfter) {
    const ticks = after - (ticksBefore.get(pid) ?? 0);
    used += ticks;
    const process = last.processes.find((p) => p.pid === pid);
    if (process) process.cpuPercent = percent(ticks);
  }
  return { ...last, rssMaxKiB: Math.max(...samples.map((m) => m.rssKiB)), idleSeconds: seconds, cpuPercent: percent(used) };
}

// ---------------------------------------------------------------------------------------------

async function measureLaunch(run) {
  // An app that cannot start leaves the session request hanging for minutes; say why sooner.
  const hung = setTimeout(() => {
    console.error(`the app opened no window within 60 s; its log is in ${profileDir}/logs`);
    process.exit(1);
  }, 60000);
  const app = await launchApp({ profileDir, env: appEnv }).finally(() => clearTimeout(hung));
  try {
    await app.session.call('POST', '/timeouts', { script: 60000 });
    const page = await app.session.executeAsync(WAIT_FOR_ROWS);
    const seenAt = Date.now();
    const appStartedAt = processStartedAt(findApp(processTable(), app.driverPid).pid);
    const sessionToRows = page.timeOrigin + page.painted - app.timing.sessionRequestedAt;
    const record = {
      run,
      sessionToRowsMs: sessionToRows,
      processStartToRowsMs: page.timeOrigin + page.painted - appStartedAt,
      processStartToNavigationStartMs: page.timeOrigin - appStartedAt,
      sessionToRowsSeenByDriverMs: seenAt - app.timing.sessionRequestedAt,
      sessionCreateMs: app.timing.sessionCreatedAt - app.timing.sessionRequestedAt,
      sessionToNavigationStartMs: page.timeOrigin - app.timing.sessionRequestedAt,
      pageRowsPaintedMs: page.painted,
      rowsAlreadyThere: page.already,
      nav: page.nav,
      paints: page.paints,
      domRows: page.domRows,
    };
    console.log(
      `launch ${run}: app process start → rows painted ${fmt(record.processStartToRowsMs)}, session request → rows painted ${fmt(sessionToRows)}${page.already ? ' (at most: rows were there at the first look)' : ''}; ` +
        `in page: navigation start → rows painted ${fmt(page.painted)}; ` +
        `session request → navigation start ${fmt(record.sessionToNavigationStartMs)}; ${page.domRows} rows in the DOM`,
    );
    if (process.env.LOFT_BENCH_DEBUG) console.log(JSON.stringify(page, null, 1));
    record.memory = await idleMemory(app, idleSeconds);
    console.log(
      `  idle ${idleSeconds} s with the list open: ${describeMemory(record.memory)}; RSS max while idle ${mib(record.memory.rssMaxKiB)}; CPU ${record.memory.cpuPercent.toFixed(0)} % of one core`,
    );
    return { app, record };
  } catch (error) {
    await app.close();
    app.removeScratch();
    throw error;
  }
}

async function measureSearch(app) {
  const { session } = app;
  const input = await session.byTestId('search');
  const samples = [];
  for (const query of QUERIES) {
    await input.clear();
    await session.waitFor('the song list back', async () => (await session.findAll(ROWS)).length > 0);
    await sleep(300);
    for (let i = 0; i < query.length; i++) {
      await session.execute(ARM_SEARCH);
      await input.sendKeys(query[i]);
      const r = await session.executeAsync(SETTLE_SEARCH);
      const typed = query.slice(0, i + 1);
      if (r.timeout) {
        console.log(`  search "${typed}": no settled answer within 10 s`);
        samples.push({ query: typed, timeout: true });
        continue;
      }
      // A keystroke whose answer shows the same results paints nothing new: no sample.
      const changed = r.changed && r.painted !== undefined;
      const sample = {
        query: typed,
        changed,
        keyToPaintedMs: changed ? r.painted - r.key : NaN,
        keyToIpcSentMs: r.ipc ? r.ipc.start - r.key : NaN,
        ipcRoundTripMs: r.ipc ? r.ipc.headers - r.ipc.start : NaN,
        ipcBytes: r.ipc?.bytes,
        answerToPaintedMs: changed && r.ipc ? r.painted - r.ipc.headers : NaN,
        searchCalls: r.searchCalls,
        rows: r.rows,
        domNodes: r.domNodes,
      };
      samples.push(sample);
    }
  }
  const measured = samples.filter((s) => s.changed);
  const result = {
    queries: QUERIES,
    samples,
    keyToPainted: summary(measured.map((s) => s.keyToPaintedMs)),
    ipcRoundTrip: summary(samples.filter((s) => !s.timeout).map((s) => s.ipcRoundTripMs)),
    answerToPainted: summary(measured.map((s) => s.answerToPaintedMs)),
    unchanged: samples.filter((s) => !s.timeout && !s.changed).length,
    timeouts: samples.filter((s) => s.timeout).length,
  };
  console.log(
    `search, ${samples.length} keystrokes in ${QUERIES.length} queries (${measured.length} changed the results, ${result.unchanged} did not, ${result.timeouts} timed out):`,
  );
  console.log(`  keystroke → results painted: ${fmtSummary(result.keyToPainted)}`);
  console.log(`  search command round trip (IPC + query): ${fmtSummary(result.ipcRoundTrip)}`);
  console.log(`  answer → painted (parse, render, frame): ${fmtSummary(result.answerToPainted)}`);
  const slow = [...measured].sort((a, b) => b.keyToPaintedMs - a.keyToPaintedMs).slice(0, 5);
  console.log(
    `  slowest: ${slow.map((s) => `"${s.query}" ${fmt(s.keyToPaintedMs)} (IPC ${fmt(s.ipcRoundTripMs)}, ${s.ipcBytes} B, ${s.rows} rows)`).join('; ')}`,
  );
  await input.clear();
  await session.waitFor('the song list back', async () => (await session.findAll(ROWS)).length > 0);
  return result;
}

async function measureScroll(app) {
  const { session } = app;
  const jumps = [];
  const rowCount = Number(await session.execute(`return document.querySelector('[data-testid="song-list"]').getAttribute('aria-rowcount')`));
  const DEPTHS = DEPTH_SHARES.map((share) => Math.floor(share * rowCount));
  // Each pass goes to fresh pages (200 rows each), so every jump but the one to row 0 fetches.
  for (let pass = 0; pass < 3; pass++) {
    for (const depth of DEPTHS) {
      const index = depth === 0 ? 0 : Math.max(0, depth - pass * 600);
      const r = await session.executeAsync(JUMP_TO_ROW, [index]);
      jumps.push({ pass, depth, index, ...r });
      await sleep(200);
    }
  }
  for (const depth of DEPTHS) {
    const index = depth === 0 ? 0 : Math.max(0, depth - 2 * 600);
    const r = await session.executeAsync(JUMP_TO_ROW, [index]);
    jumps.push({ pass: 'cached', depth, index, ...r });
    await sleep(200);
  }
  for (const j of jumps) {
    if (j.timeout) console.log(`  jump to row ${j.index}: timed out`);
  }
  const fresh = jumps.filter((j) => j.pass !== 'cached' && j.depth !== 0 && !j.timeout);
  const result = {
    jumps,
    freshJump: summary(fresh.map((j) => j.ms)),
    cachedJump: summary(jumps.filter((j) => (j.pass === 'cached' || j.depth === 0) && !j.timeout).map((j) => j.ms)),
    maxDomRows: Math.max(...jumps.map((j) => j.domRows ?? 0)),
    maxDomNodes: Math.max(...jumps.map((j) => j.domNodes ?? 0)),
    maxIpcBytesPerJump: Math.max(...jumps.flatMap((j) => (j.ipc ?? []).map((e) => e.bytes ?? 0))),
  };
  console.log(`scroll, ${rowCount} rows: jump to a row until it shows its data, painted:`);
  for (const depth of DEPTHS) {
    const at = jumps.filter((j) => j.depth === depth && !j.timeout);
    console.log(
      `  row ~${depth}: ${at.map((j) => `${fmt(j.ms)}${j.pass === 'cached' ? ' (cached)' : ''}`).join(', ')}; DOM rows ${at.map((j) => j.domRows).join('/')}; IPC ${at.map((j) => j.ipc.map((e) => `${e.cmd} ${fmt(e.ms)} ${e.bytes} B`).join('+') || 'none').join(', ')}`,
    );
  }
  console.log(
    `  fresh pages: ${fmtSummary(result.freshJump)}; cached: ${fmtSummary(result.cachedJump)}; at most ${result.maxDomRows} rows and ${result.maxDomNodes} elements in the DOM; largest IPC answer ${result.maxIpcBytesPerJump} B`,
  );

  result.continuous = [];
  for (const [speed, label] of [
    [0, 'standing still (what this display gives an idle page)'],
    [3_000, 'fling, 3,000 px/s (~90 rows/s)'],
    [30_000, 'fast, 30,000 px/s (~900 rows/s)'],
    [300_000, 'scrollbar drag, 300,000 px/s (~9,000 rows/s)'],
  ]) {
    const r = await session.executeAsync(CONTINUOUS_SCROLL, [speed, 4]);
    const frames = summary(r.intervals);
    const record = {
      label,
      speed,
      frameInterval: frames,
      framesOver33ms: r.intervals.filter((i) => i > 33.4).length,
      frames: r.frames,
      framesWithBlankRows: r.framesWithBlanks,
      maxDomRows: r.maxDomRows,
      ipcCalls: r.ipcCalls,
      ipcBytes: r.ipcBytes,
      maxIpcBytes: r.maxIpcBytes,
    };
    result.continuous.push(record);
    console.log(
      `  continuous ${label}: frame interval ${fmtSummary(frames)}, ${record.framesOver33ms} frames over 33 ms; ` +
        `${r.framesWithBlanks} of ${r.frames} frames showed placeholder rows; ≤ ${r.maxDomRows} DOM rows; ${r.ipcCalls} IPC calls, ${r.ipcBytes} B (largest ${r.maxIpcBytes} B)`,
    );
  }
  await session.executeAsync(JUMP_TO_ROW, [0]);
  return result;
}

async function main() {
  console.log(`Loft player window benchmark, ${results.date}`);
  console.log(`machine: ${results.machine}; load average ${results.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`app: ${appBinary}; profile: ${profileDir}; commit ${results.commit}`);
  if (Object.keys(appEnv).length) console.log(`app environment: ${JSON.stringify(appEnv)}`);

  let kept = null;
  for (let run = 1; run <= launches; run++) {
    const { app, record } = await measureLaunch(run);
    results.launches.push(record);
    if (run < launches) {
      await app.close();
      app.removeScratch();
    } else {
      kept = app;
    }
  }
  const processSummary = summary(results.launches.map((l) => l.processStartToRowsMs));
  const launchSummary = summary(results.launches.map((l) => l.sessionToRowsMs));
  const pageSummary = summary(results.launches.map((l) => l.pageRowsPaintedMs));
  const rss = summary(results.launches.map((l) => l.memory.rssKiB / 1024));
  const pss = summary(results.launches.map((l) => l.memory.pssKiB / 1024));
  const uss = summary(results.launches.map((l) => l.memory.ussKiB / 1024));
  results.launchSummary = { processStartToRows: processSummary, sessionToRows: launchSummary, pageRowsPainted: pageSummary, idleRssMiB: rss, idlePssMiB: pss, idleUssMiB: uss };
  console.log(`launch over ${launches} launches: app process start → first rows painted ${fmtSummary(processSummary)}`);
  console.log(`  WebDriver session request (includes starting WebKitWebDriver) → rows painted: ${fmtSummary(launchSummary)}`);
  console.log(`  in page (navigation start → rows painted): ${fmtSummary(pageSummary)}`);
  console.log(`idle memory after launch: RSS median ${rss.median.toFixed(1)} MiB, max ${rss.max.toFixed(1)} MiB; PSS median ${pss.median.toFixed(1)} MiB; USS median ${uss.median.toFixed(1)} MiB`);

  const app = kept;
  try {
    if (only === 'launch') return;
    await app.session.execute(INSTALL_IPC_LOG);
    results.scroll = await measureScroll(app);
    results.search = await measureSearch(app);
    results.memoryAfterUse = await idleMemory(app, idleSeconds);
    console.log(
      `idle ${idleSeconds} s after the scrolling and searching: ${describeMemory(results.memoryAfterUse)}; CPU ${results.memoryAfterUse.cpuPercent.toFixed(0)} % of one core`,
    );
  } finally {
    await app.close();
    app.removeScratch();
  }
  results.loadAverageAtEnd = os.loadavg();
  console.log(`load average at the end: ${results.loadAverageAtEnd.map((l) => l.toFixed(2)).join(' ')}`);
  if (resultsPath) writeFileSync(resultsPath, JSON.stringify(results, null, 2));
}

await main();
