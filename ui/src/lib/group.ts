// Groups an artist's tracks into their albums, in the order the tracks came.
import type { Album, Track } from './bindings';

export function albumsOf(tracks: Track[]): Album[] {
  const byKey = new Map<string, Album>();
  for (const track of tracks) {
    const id = `${track.album_artist}\u0000${track.album}`;
    const album = byKey.get(id);
    if (album) {
      album.track_count += 1;
      album.duration_ms += track.duration_ms;
      album.cover_id ??= track.cover_id;
      album.year ??= track.year;
    } else {
      byKey.set(id, {
        title: track.album,
        album_artist: track.album_artist,
        key: { album_artist: track.album_artist, album: track.album },
        year: track.year,
        track_count: 1,
        duration_ms: track.duration_ms,
        cover_id: track.cover_id,
      });
    }
  }
  return [...byKey.values()];
}
