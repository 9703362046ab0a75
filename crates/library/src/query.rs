//! What front ends read: sorted, paged track lists, search, albums, artists, covers.

use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, Row, params};

use crate::error::Result;
use crate::scan::{album_sort_key, artist_sort_key, file_title};
use crate::{
    Album, AlbumKey, Artist, CoverImage, CoverSize, Library, MusicBrainzIds, OfflineState, Page, ReplayGain,
    Track, TrackQuery, TrackSource, UNKNOWN_ALBUM, UNKNOWN_ARTIST, paths,
};

pub(crate) const TRACK_COLUMNS: &str =
    "t.id, t.title, t.artist, t.artists, t.album, t.album_artist, t.group_artist,
    t.track_no, t.track_total, t.disc_no, t.disc_total, t.year, t.date, t.genre, t.composer, t.duration_ms,
    t.sample_rate, t.channels, t.bit_depth, t.bitrate_kbps, t.rg_track_gain, t.rg_track_peak,
    t.rg_album_gain, t.rg_album_peak, t.mb_recording_id, t.mb_track_id, t.mb_release_id, t.mb_artist_id,
    t.mb_release_artist_id, t.compilation, t.format, t.cover_id, t.play_count, t.added_at, t.sha256,
    (SELECT lf.path FROM local_files lf WHERE lf.track_id = t.id ORDER BY lf.id LIMIT 1),
    (SELECT lc.file_name FROM locker_copies lc WHERE lc.sha256 = t.sha256),
    (SELECT oc.pinned * 2 + oc.complete FROM offline_copies oc WHERE oc.sha256 = t.sha256),
    t.last_played_ms, t.loved, t.rating, t.resume_ms";

/// How many columns [`TRACK_COLUMNS`] selects: a query may select more after them.
pub(crate) const TRACK_COLUMN_COUNT: usize = 42;

/// How many full-text matches a search ranks at most.
pub const SEARCH_CANDIDATES: i64 = 2000;

/// SQLite takes LIMIT and OFFSET as signed integers.
fn clamp(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn non_empty(text: String) -> Option<String> {
    if text.is_empty() { None } else { Some(text) }
}

pub(crate) fn or_default(text: String, fallback: &str) -> String {
    if text.is_empty() { fallback.to_owned() } else { text }
}

pub(crate) fn track_from_row(row: &Row<'_>) -> rusqlite::Result<Track> {
    let path: Option<PathBuf> = row.get::<_, Option<Vec<u8>>>(35)?.map(|bytes| paths::from_bytes(&bytes));
    // The name the locker's copy was uploaded under; `None` when the locker has no copy.
    let locker_name: Option<String> = row.get(36)?;
    let title: String = row.get(1)?;
    let title = if title.is_empty() {
        path.as_deref()
            .or(locker_name.as_deref().map(Path::new))
            .map(file_title)
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "Untitled".to_owned())
    } else {
        title
    };
    let artists: Vec<String> = serde_json::from_str(&row.get::<_, String>(3)?).unwrap_or_default();
    let album_artist: String = row.get(5)?;
    let group_artist: String = row.get(6)?;
    let album_artist =
        if album_artist.is_empty() { or_default(group_artist, UNKNOWN_ARTIST) } else { album_artist };
    Ok(Track {
        id: row.get(0)?,
        title,
        artist: or_default(row.get(2)?, UNKNOWN_ARTIST),
        artists,
        album: or_default(row.get(4)?, UNKNOWN_ALBUM),
        album_artist,
        track_no: row.get(7)?,
        track_total: row.get(8)?,
        disc_no: row.get(9)?,
        disc_total: row.get(10)?,
        year: row.get(11)?,
        date: non_empty(row.get(12)?),
        genre: row.get(13)?,
        composer: row.get(14)?,
        duration_ms: row.get(15)?,
        sample_rate: row.get(16)?,
        channels: row.get(17)?,
        bit_depth: row.get(18)?,
        bitrate_kbps: row.get(19)?,
        replaygain: ReplayGain {
            track_gain_db: row.get(20)?,
            track_peak: row.get(21)?,
            album_gain_db: row.get(22)?,
            album_peak: row.get(23)?,
        },
        musicbrainz: MusicBrainzIds {
            recording_id: non_empty(row.get(24)?),
            track_id: non_empty(row.get(25)?),
            release_id: non_empty(row.get(26)?),
            artist_id: non_empty(row.get(27)?),
            release_artist_id: non_empty(row.get(28)?),
        },
        compilation: row.get(29)?,
        format: row.get(30)?,
        cover_id: row.get(31)?,
        play_count: row.get(32)?,
        last_played_ms: row.get(38)?,
        loved: row.get(39)?,
        rating: row.get(40)?,
        resume_ms: row.get(41)?,
        added_at: row.get(33)?,
        sha256: row.get(34)?,
        source: TrackSource::of(path.is_some(), locker_name.is_some()),
        offline: OfflineState::from_flags(row.get(37)?),
        path: path.map(|p| paths::display(&p)),
    })
}

/// Turns what the user typed into an FTS5 query: every word must match the start of a word in
/// some field. Quoting each word keeps FTS5 syntax characters literal.
fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\"*"))
        .collect();
    if words.is_empty() { None } else { Some(words.join(" ")) }
}

impl Library {
    /// One page of the tracks the query's source filter keeps, in the given order.
    pub fn tracks(&self, query: &TrackQuery) -> Result<Vec<Track>> {
        let direction = if query.descending { " DESC" } else { "" };
        let order: Vec<String> =
            query.sort.order_terms().iter().map(|term| format!("{term}{direction}")).collect();
        let sql = format!(
            "SELECT {TRACK_COLUMNS} FROM tracks t WHERE {} ORDER BY {} LIMIT ?1 OFFSET ?2",
            query.source.condition(),
            order.join(", ")
        );
        self.read(|db| {
            let mut statement = db.prepare_cached(&sql)?;
            let rows =
                statement.query_map(params![clamp(query.limit), clamp(query.offset)], track_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    pub fn track(&self, id: i64) -> Result<Option<Track>> {
        let sql = format!("SELECT {TRACK_COLUMNS} FROM tracks t WHERE t.id = ?1");
        self.read(|db| Ok(db.prepare_cached(&sql)?.query_row(params![id], track_from_row).optional()?))
    }

    /// How many tracks the library holds.
    pub fn track_count(&self) -> Result<u64> {
        self.count_tracks(crate::SourceFilter::All)
    }

    /// How many tracks a source filter keeps: the length of the list `tracks` pages through.
    pub fn count_tracks(&self, source: crate::SourceFilter) -> Result<u64> {
        let sql = format!("SELECT COUNT(*) FROM tracks t WHERE {}", source.condition());
        self.read(|db| Ok(db.prepare_cached(&sql)?.query_row([], |r| r.get(0))?))
    }

    /// The exact path of a local copy of the track, for playback.
    pub fn track_path(&self, id: i64) -> Result<Option<PathBuf>> {
        self.read(|db| {
            let bytes: Option<Vec<u8>> = db
                .prepare_cached("SELECT path FROM local_files WHERE track_id = ?1 ORDER BY id LIMIT 1")?
                .query_row(params![id], |r| r.get(0))
                .optional()?;
            Ok(bytes.map(|b| paths::from_bytes(&b)))
        })
    }

    /// The track a local file belongs to.
    pub fn track_id_for_path(&self, path: &Path) -> Result<Option<i64>> {
        self.read(|db| {
            Ok(db
                .prepare_cached("SELECT track_id FROM local_files WHERE path = ?1")?
                .query_row(params![paths::to_bytes(path)], |r| r.get(0))
                .optional()?)
        })
    }

    /// Tracks matching what the user typed, best first: every word must start a word of the
    /// title, artist, album, album artist, genre or composer, ignoring case and diacritics.
    ///
    /// Ranking is done among the first [`SEARCH_CANDIDATES`] matches: that keeps a query as
    /// broad as one letter as fast as a precise one, and a query with fewer matches than that
    /// (any query precise enough to be worth ranking) is ranked in full.
    pub fn search(&self, text: &str, limit: u64) -> Result<Vec<Track>> {
        let Some(query) = fts_query(text) else { return Ok(Vec::new()) };
        let sql = format!(
            "SELECT {TRACK_COLUMNS} FROM tracks t
             JOIN (SELECT rowid, rank FROM
                     (SELECT rowid, rank FROM tracks_fts WHERE tracks_fts MATCH ?1 LIMIT ?3)
                   ORDER BY rank, rowid LIMIT ?2) hit
               ON hit.rowid = t.id
             ORDER BY hit.rank, t.id"
        );
        self.read(|db| {
            let mut statement = db.prepare_cached(&sql)?;
            let rows =
                statement.query_map(params![query, clamp(limit), SEARCH_CANDIDATES], track_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Albums ordered by album artist then title.
    pub fn albums(&self, page: Page) -> Result<Vec<Album>> {
        self.read(|db| {
            let mut statement = db.prepare_cached(
                "SELECT group_artist, album, MIN(year), COUNT(*), SUM(duration_ms), MAX(cover_id)
                 FROM tracks
                 GROUP BY sort_group_artist, sort_album
                 ORDER BY sort_group_artist, sort_album
                 LIMIT ?1 OFFSET ?2",
            )?;
            let rows = statement.query_map(params![clamp(page.limit), clamp(page.offset)], |row| {
                let group_artist: String = row.get(0)?;
                let album: String = row.get(1)?;
                Ok(Album {
                    title: or_default(album.clone(), UNKNOWN_ALBUM),
                    album_artist: or_default(group_artist.clone(), UNKNOWN_ARTIST),
                    key: AlbumKey { album_artist: group_artist, album },
                    year: row.get(2)?,
                    track_count: row.get(3)?,
                    duration_ms: row.get::<_, Option<u64>>(4)?.unwrap_or(0),
                    cover_id: row.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// The tracks of one album in disc and track order.
    pub fn album_tracks(&self, key: &AlbumKey) -> Result<Vec<Track>> {
        let sql = format!(
            "SELECT {TRACK_COLUMNS} FROM tracks t
             WHERE t.sort_group_artist = ?1 AND t.sort_album = ?2
             ORDER BY t.disc_no, t.track_no, t.sort_title, t.id"
        );
        self.read(|db| {
            let mut statement = db.prepare_cached(&sql)?;
            let rows = statement.query_map(
                params![artist_sort_key(&key.album_artist), album_sort_key(&key.album)],
                track_from_row,
            )?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Track artists in name order.
    pub fn artists(&self, page: Page) -> Result<Vec<Artist>> {
        self.read(|db| {
            let mut statement = db.prepare_cached(
                "SELECT artist, COUNT(*), COUNT(DISTINCT sort_album)
                 FROM tracks
                 GROUP BY sort_artist
                 ORDER BY sort_artist
                 LIMIT ?1 OFFSET ?2",
            )?;
            let rows = statement.query_map(params![clamp(page.limit), clamp(page.offset)], |row| {
                Ok(Artist {
                    name: or_default(row.get(0)?, UNKNOWN_ARTIST),
                    track_count: row.get(1)?,
                    album_count: row.get(2)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// The tracks of one artist (as listed by [`Library::artists`]), by album, disc and track.
    pub fn artist_tracks(&self, artist: &str) -> Result<Vec<Track>> {
        let sql = format!(
            "SELECT {TRACK_COLUMNS} FROM tracks t WHERE t.sort_artist = ?1
             ORDER BY t.sort_album, t.disc_no, t.track_no, t.id"
        );
        self.read(|db| {
            let mut statement = db.prepare_cached(&sql)?;
            let rows = statement.query_map(params![artist_sort_key(artist)], track_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// A cover image, as stored or as its JPEG thumbnail.
    pub fn cover(&self, cover_id: i64, size: CoverSize) -> Result<Option<CoverImage>> {
        self.read(|db| {
            let sql = match size {
                CoverSize::Original => "SELECT mime, image FROM covers WHERE id = ?1",
                CoverSize::Thumbnail => "SELECT 'image/jpeg', thumbnail FROM covers WHERE id = ?1",
            };
            Ok(db
                .prepare_cached(sql)?
                .query_row(params![cover_id], |row| Ok(CoverImage { mime: row.get(0)?, bytes: row.get(1)? }))
                .optional()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_becomes_a_prefix_query_of_quoted_words() {
        assert_eq!(fts_query("sigur r").as_deref(), Some("\"sigur\"* \"r\"*"));
        assert_eq!(fts_query("AC/DC \"live\"").as_deref(), Some("\"AC\"* \"DC\"* \"live\"*"));
        assert_eq!(fts_query(" -*- "), None);
    }
}
