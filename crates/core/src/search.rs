//! Search as the player window shows it: one query, results grouped into songs, albums and
//! artists.

use std::collections::HashMap;

use loft_library::{Album, AlbumKey, Artist, Track};
use serde::Serialize;

use crate::{CoreError, Loft};

/// Matches for one query, best first within each group.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct SearchResults {
    pub tracks: Vec<Track>,
    pub albums: Vec<Album>,
    pub artists: Vec<Artist>,
}

impl Loft {
    /// Searches the library and groups the matching tracks by album and artist. A group's
    /// rank is that of its best-ranked track, so "sigur" lists Sigur Rós before an album that
    /// only has one song whose composer matches.
    pub fn search_grouped(&self, text: &str, limit: u64) -> Result<SearchResults, CoreError> {
        let tracks = self.search(text, limit.max(1))?;
        Ok(group(tracks))
    }
}

fn group(tracks: Vec<Track>) -> SearchResults {
    let mut albums: Vec<Album> = Vec::new();
    let mut album_index: HashMap<AlbumKey, usize> = HashMap::new();
    let mut artists: Vec<Artist> = Vec::new();
    let mut artist_index: HashMap<String, usize> = HashMap::new();
    let mut artist_albums: Vec<Vec<AlbumKey>> = Vec::new();

    for track in &tracks {
        let key = AlbumKey { album_artist: track.album_artist.clone(), album: track.album.clone() };
        match album_index.get(&key) {
            Some(&i) => {
                albums[i].track_count += 1;
                albums[i].duration_ms += track.duration_ms;
            }
            None => {
                album_index.insert(key.clone(), albums.len());
                albums.push(Album {
                    title: track.album.clone(),
                    album_artist: track.album_artist.clone(),
                    key: key.clone(),
                    year: track.year,
                    track_count: 1,
                    duration_ms: track.duration_ms,
                    cover_id: track.cover_id,
                });
            }
        }
        let i = *artist_index.entry(track.artist.clone()).or_insert_with(|| {
            artists.push(Artist { name: track.artist.clone(), track_count: 0, album_count: 0 });
            artist_albums.push(Vec::new());
            artists.len() - 1
        });
        artists[i].track_count += 1;
        if !artist_albums[i].contains(&key) {
            artist_albums[i].push(key);
            artists[i].album_count += 1;
        }
    }
    SearchResults { tracks, albums, artists }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(id: i64, title: &str, artist: &str, album: &str) -> Track {
        Track {
            id,
            title: title.into(),
            artist: artist.into(),
            album: album.into(),
            artists: vec![artist.into()],
            album_artist: artist.into(),
            track_no: None,
            track_total: None,
            disc_no: None,
            disc_total: None,
            year: None,
            date: None,
            genre: String::new(),
            composer: String::new(),
            duration_ms: 1000,
            sample_rate: None,
            channels: None,
            bit_depth: None,
            bitrate_kbps: None,
            replaygain: Default::default(),
            musicbrainz: Default::default(),
            compilation: false,
            format: "flac".into(),
            cover_id: None,
            play_count: 0,
            last_played_ms: None,
            loved: false,
            rating: None,
            resume_ms: None,
            added_at: 0,
            path: None,
            sha256: None,
            source: loft_library::TrackSource::Local,
            offline: loft_library::OfflineState::None,
        }
    }

    #[test]
    fn groups_keep_the_order_of_the_best_match() {
        let results = group(vec![
            track(1, "Hoppípolla", "Sigur Rós", "Takk..."),
            track(2, "Glósóli", "Sigur Rós", "Takk..."),
            track(3, "Svefn-g-englar", "Sigur Rós", "Ágætis byrjun"),
            track(4, "Sigur", "Someone Else", "Other"),
        ]);
        let albums: Vec<&str> = results.albums.iter().map(|a| a.title.as_str()).collect();
        assert_eq!(albums, ["Takk...", "Ágætis byrjun", "Other"]);
        assert_eq!(results.albums[0].track_count, 2);
        assert_eq!(results.albums[0].duration_ms, 2000);
        let artists: Vec<(&str, u64, u64)> =
            results.artists.iter().map(|a| (a.name.as_str(), a.track_count, a.album_count)).collect();
        assert_eq!(artists, [("Sigur Rós", 3, 2), ("Someone Else", 1, 1)]);
        assert_eq!(results.tracks.len(), 4);
    }
}
