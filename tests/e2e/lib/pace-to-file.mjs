// Stands in for a sound card's clock: ALSA's file plugin pipes the app's audio here, and this
// reads it no faster than real time, so playback in tests runs at the speed a listener hears.
// (ALSA's null device takes samples as fast as they come, which would play a song in a blink.)
//
// usage: node pace-to-file.mjs OUT.raw BYTES_PER_SECOND

import { createWriteStream } from 'node:fs';

const [out, rate] = [process.argv[2], Number(process.argv[3])];
if (!out || !(rate > 0)) {
  console.error('usage: node pace-to-file.mjs OUT.raw BYTES_PER_SECOND');
  process.exit(2);
}

const file = createWriteStream(out);
let start = performance.now();
let written = 0;

process.stdin.on('data', (chunk) => {
  // After a pause (nothing came for a while) the clock starts again from now, rather than
  // letting the stream rush to catch up.
  const behind = (performance.now() - start) / 1000 - written / rate;
  if (behind > 0.5) {
    start = performance.now() - (written / rate) * 1000;
  }
  file.write(chunk);
  written += chunk.length;
  const ahead = written / rate - (performance.now() - start) / 1000;
  if (ahead > 0) {
    process.stdin.pause();
    setTimeout(() => process.stdin.resume(), ahead * 1000);
  }
});
process.stdin.on('end', () => file.end());
