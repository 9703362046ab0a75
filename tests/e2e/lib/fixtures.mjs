// Real, tagged audio files for the end-to-end tests, made with ffmpeg.

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const SONGS = [
  { file: 'hoppipolla.flac', title: 'Hoppípolla', artist: 'Sigur Rós', album: 'Takk...', track: 2, freq: 440, colors: ['0x0ea5e9', '0xf8fafc'] },
  { file: 'halo.flac', title: 'Halo', artist: 'Beyoncé', album: 'I Am... Sasha Fierce', track: 3, freq: 523, colors: ['0xfacc15', '0x78350f'] },
  { file: 'teardrop.flac', title: 'Teardrop', artist: 'Massive Attack', album: 'Mezzanine', track: 3, freq: 330, colors: ['0x111827', '0xdc2626'] },
];

/** SONGS in the order a folder of them opens as a queue: by file name. */
export const SONGS_IN_FOLDER_ORDER = [...SONGS].sort((a, b) => a.file.localeCompare(b.file));

function ffmpeg(args, what) {
  try {
    // A synchronous call holds the event loop, so no test time limit could end a hung ffmpeg.
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 60_000,
    });
  } catch (error) {
    throw new Error(`ffmpeg could not make ${what} (is ffmpeg installed?): ${error.stderr ?? error.message}`);
  }
}

/**
 * Writes `songs` as FLAC files of `seconds` of sine tone into `dir`, each with embedded cover
 * art (a gradient in the song's colours); returns their paths.
 */
export function makeSongs(dir, { songs = SONGS, seconds = 4 } = {}) {
  mkdirSync(dir, { recursive: true });
  return songs.map((song) => {
    const path = join(dir, song.file);
    const cover = join(dir, `.${song.file}.cover.png`);
    const [from, to] = song.colors;
    ffmpeg(
      ['-f', 'lavfi', '-i', `gradients=s=320x320:c0=${from}:c1=${to}:x0=0:y0=0:x1=320:y1=320:d=1`, '-frames:v', '1', cover],
      cover,
    );
    ffmpeg(
      [
        '-f', 'lavfi', '-i', `sine=frequency=${song.freq}:sample_rate=44100:duration=${seconds}`,
        '-i', cover,
        '-map', '0:a', '-map', '1:v', '-c:v', 'png', '-disposition:v', 'attached_pic',
        '-ac', '2',
        '-metadata', `title=${song.title}`,
        '-metadata', `artist=${song.artist}`,
        '-metadata', `album=${song.album}`,
        '-metadata', `track=${song.track}`,
        path,
      ],
      path,
    );
    rmSync(cover);
    return path;
  });
}
