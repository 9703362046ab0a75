// Reads what ALSA's file plugin captured from the app (see writeAlsaCapture in app.mjs).

import { existsSync, readFileSync } from 'node:fs';

/** How many sample bytes were captured, and whether any of them is not silence. */
export function readCapture(path) {
  if (!existsSync(path)) return { bytes: 0, sounding: false };
  const samples = readFileSync(path);
  let sounding = false;
  for (let i = 0; i < samples.length; i++) {
    if (samples[i] !== 0) {
      sounding = true;
      break;
    }
  }
  return { bytes: samples.length, sounding };
}
