// What the desktop tests read from outside the app: its MPRIS player on the private session bus
// (through playerctl) and its windows on the X server (through xwininfo).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export const run = promisify(execFile);

/** playerctl talking to Loft's MPRIS player only. */
export async function playerctl(...args) {
  const { stdout } = await run('playerctl', ['--player=loft', ...args], { timeout: 10_000 });
  return stdout.trim();
}

/** What MPRIS says plays, or null while Loft is not on the bus yet. */
export async function mprisNow() {
  try {
    const [title, artist, length] = (await playerctl('metadata', '--format', '{{title}}\t{{artist}}\t{{mpris:length}}')).split('\t');
    return {
      title,
      artist,
      lengthSecs: Number(length) / 1e6,
      status: await playerctl('status'),
      position: Number(await playerctl('position')),
    };
  } catch {
    return null;
  }
}

/** Whether the X server shows the window with this exact title: true, false (hidden), or null
 * when there is none. */
export async function mapped(title) {
  try {
    const { stdout } = await run('xwininfo', ['-name', title], { timeout: 10_000 });
    return /Map State:\s+IsViewable/.test(stdout);
  } catch {
    return null;
  }
}
