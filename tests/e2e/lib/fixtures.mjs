// Real, tagged audio files for the end-to-end tests, made with ffmpeg.

import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const SONGS = [
  { file: 'hoppipolla.flac', title: 'Hoppípolla', artist: 'Sigur Rós', album: 'Takk...', track: 2, freq: 440 },
  { file: 'halo.flac', title: 'Halo', artist: 'Beyoncé', album: 'I Am... Sasha Fierce', track: 3, freq: 523 },
  { file: 'teardrop.flac', title: 'Teardrop', artist: 'Massive Attack', album: 'Mezzanine', track: 3, freq: 330 },
];

/** Writes `songs` as FLAC files of `seconds` of sine tone into `dir`; returns their paths. */
export function makeSongs(dir, { songs = SONGS, seconds = 4 } = {}) {
  mkdirSync(dir, { recursive: true });
  return songs.map((song) => {
    const path = join(dir, song.file);
    try {
      execFileSync(
        'ffmpeg',
        [
          '-hide_banner', '-loglevel', 'error', '-y',
          '-f', 'lavfi', '-i', `sine=frequency=${song.freq}:sample_rate=44100:duration=${seconds}`,
          '-ac', '2',
          '-metadata', `title=${song.title}`,
          '-metadata', `artist=${song.artist}`,
          '-metadata', `album=${song.album}`,
          '-metadata', `track=${song.track}`,
          path,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (error) {
      throw new Error(`ffmpeg could not make ${path} (is ffmpeg installed?): ${error.stderr ?? error.message}`);
    }
    return path;
  });
}
