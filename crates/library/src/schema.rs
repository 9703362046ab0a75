//! The database file: connection settings and the versioned schema.
//!
//! A track's identity (tags, play count, content hash) lives in `tracks`; where copies of it
//! live is kept apart, so a track can have a local file, a locker copy, or both and still show
//! once. `local_files` holds the copies on disk, `locker_copies` those in the locker, which
//! refer to tracks by `sha256`.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{LibraryError, Result};

/// Each entry moves the schema one version up; `PRAGMA user_version` records how many ran.
/// Never edit an entry that has shipped: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: folders, tracks, local files, covers, scan errors, full-text index.
    r#"
    CREATE TABLE folders (
        id INTEGER PRIMARY KEY,
        path BLOB NOT NULL UNIQUE,
        added_at INTEGER NOT NULL
    );

    CREATE TABLE covers (
        id INTEGER PRIMARY KEY,
        hash BLOB NOT NULL UNIQUE,
        mime TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        image BLOB NOT NULL,
        thumbnail BLOB NOT NULL
    );

    CREATE TABLE tracks (
        id INTEGER PRIMARY KEY,
        sha256 TEXT UNIQUE,
        title TEXT NOT NULL,
        artist TEXT NOT NULL,
        artists TEXT NOT NULL,
        album TEXT NOT NULL,
        album_artist TEXT NOT NULL,
        track_no INTEGER,
        track_total INTEGER,
        disc_no INTEGER,
        disc_total INTEGER,
        year INTEGER,
        date TEXT NOT NULL,
        genre TEXT NOT NULL,
        composer TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        sample_rate INTEGER,
        channels INTEGER,
        bit_depth INTEGER,
        bitrate_kbps INTEGER,
        rg_track_gain REAL,
        rg_track_peak REAL,
        rg_album_gain REAL,
        rg_album_peak REAL,
        mb_recording_id TEXT NOT NULL,
        mb_track_id TEXT NOT NULL,
        mb_release_id TEXT NOT NULL,
        mb_artist_id TEXT NOT NULL,
        mb_release_artist_id TEXT NOT NULL,
        compilation INTEGER NOT NULL,
        format TEXT NOT NULL,
        cover_id INTEGER REFERENCES covers(id) ON DELETE SET NULL,
        play_count INTEGER NOT NULL DEFAULT 0,
        last_played_at INTEGER,
        added_at INTEGER NOT NULL,
        -- Derived keys: folded (case, diacritics, a leading "The") so sorting and grouping
        -- treat "Beyoncé" and "beyonce" alike; title falls back to the file name.
        group_artist TEXT NOT NULL,
        sort_title TEXT NOT NULL,
        sort_artist TEXT NOT NULL,
        sort_album TEXT NOT NULL,
        sort_group_artist TEXT NOT NULL,
        sort_genre TEXT NOT NULL
    );

    -- One index per sorted view, each ending in the same order the query asks for, so the first
    -- page of any view is read straight off an index.
    CREATE INDEX tracks_by_title ON tracks(sort_title, id);
    CREATE INDEX tracks_by_artist ON tracks(sort_artist, sort_album, disc_no, track_no, id);
    CREATE INDEX tracks_by_album ON tracks(sort_album, disc_no, track_no, id);
    CREATE INDEX tracks_by_album_artist
        ON tracks(sort_group_artist, sort_album, disc_no, track_no, id);
    CREATE INDEX tracks_by_year ON tracks(year, sort_group_artist, sort_album, disc_no, track_no, id);
    CREATE INDEX tracks_by_genre ON tracks(sort_genre, sort_artist, id);
    CREATE INDEX tracks_by_duration ON tracks(duration_ms, id);
    CREATE INDEX tracks_by_play_count ON tracks(play_count, id);
    CREATE INDEX tracks_by_cover ON tracks(cover_id);

    CREATE TABLE local_files (
        id INTEGER PRIMARY KEY,
        track_id INTEGER NOT NULL REFERENCES tracks(id),
        folder_id INTEGER NOT NULL REFERENCES folders(id),
        path BLOB NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        fingerprint BLOB NOT NULL
    );
    CREATE INDEX local_files_by_track ON local_files(track_id);
    CREATE INDEX local_files_by_folder ON local_files(folder_id);

    -- Files that could not be indexed, remembered with their size and mtime so an unchanged
    -- bad file is reported again without being parsed again.
    CREATE TABLE scan_errors (
        path BLOB PRIMARY KEY,
        folder_id INTEGER NOT NULL REFERENCES folders(id),
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX scan_errors_by_folder ON scan_errors(folder_id);

    -- The index keeps its own copy of the text: a contentless index would save that space but
    -- makes each insert about a third slower, and scans are bound by the writer.
    CREATE VIRTUAL TABLE tracks_fts USING fts5(
        title, artist, album, album_artist, genre, composer,
        tokenize = 'unicode61 remove_diacritics 2',
        prefix = '1 2 3'
    );

    CREATE TRIGGER tracks_fts_insert AFTER INSERT ON tracks BEGIN
        INSERT INTO tracks_fts(rowid, title, artist, album, album_artist, genre, composer)
        VALUES (new.id, CASE WHEN new.title = '' THEN new.sort_title ELSE new.title END,
                new.artist, new.album, new.album_artist, new.genre, new.composer);
    END;
    CREATE TRIGGER tracks_fts_delete AFTER DELETE ON tracks BEGIN
        DELETE FROM tracks_fts WHERE rowid = old.id;
    END;
    CREATE TRIGGER tracks_fts_update
    AFTER UPDATE OF title, artist, album, album_artist, genre, composer, sort_title ON tracks BEGIN
        DELETE FROM tracks_fts WHERE rowid = old.id;
        INSERT INTO tracks_fts(rowid, title, artist, album, album_artist, genre, composer)
        VALUES (new.id, CASE WHEN new.title = '' THEN new.sort_title ELSE new.title END,
                new.artist, new.album, new.album_artist, new.genre, new.composer);
    END;
    "#,
    // 2: playlists. Ids are UUID text so a playlist and its entries keep the same ids in the
    // locker catalog. An entry remembers its track's hash and display text, so it survives the
    // track leaving the library (shown as unavailable) and finds the track again when it
    // comes back with the same content.
    r#"
    CREATE TABLE playlists (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );

    CREATE TABLE playlist_entries (
        id TEXT PRIMARY KEY,
        playlist_id TEXT NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        track_id INTEGER REFERENCES tracks(id) ON DELETE SET NULL,
        sha256 TEXT,
        title TEXT NOT NULL,
        artist TEXT NOT NULL,
        duration_ms INTEGER NOT NULL
    );
    CREATE INDEX playlist_entries_by_playlist ON playlist_entries(playlist_id, position);
    CREATE INDEX playlist_entries_by_track ON playlist_entries(track_id);
    CREATE INDEX playlist_entries_by_sha256 ON playlist_entries(sha256);

    -- What an unavailable entry shows is what its track said last.
    CREATE TRIGGER playlist_entries_remember_deleted_track BEFORE DELETE ON tracks BEGIN
        UPDATE playlist_entries
        SET title = CASE WHEN old.title = '' THEN old.sort_title ELSE old.title END,
            artist = old.artist, duration_ms = old.duration_ms,
            sha256 = COALESCE(old.sha256, sha256)
        WHERE track_id = old.id;
    END;
    -- A track found to be a copy of another is merged into it by moving its file; its entries
    -- follow the file once the old track has no file left.
    CREATE TRIGGER playlist_entries_follow_merged_file
    AFTER UPDATE OF track_id ON local_files WHEN old.track_id != new.track_id BEGIN
        UPDATE playlist_entries SET track_id = new.track_id
        WHERE track_id = old.track_id
          AND NOT EXISTS (SELECT 1 FROM local_files lf WHERE lf.track_id = old.track_id);
    END;
    CREATE TRIGGER playlist_entries_learn_hash
    AFTER UPDATE OF sha256 ON tracks WHEN new.sha256 IS NOT NULL BEGIN
        UPDATE playlist_entries SET sha256 = new.sha256 WHERE track_id = new.id;
        UPDATE playlist_entries SET track_id = new.id WHERE track_id IS NULL AND sha256 = new.sha256;
    END;
    CREATE TRIGGER playlist_entries_find_returning_track
    AFTER INSERT ON tracks WHEN new.sha256 IS NOT NULL BEGIN
        UPDATE playlist_entries SET track_id = new.id WHERE track_id IS NULL AND sha256 = new.sha256;
    END;
    "#,
    // 3: the locker's copies of tracks. A copy names its track by content, so a file that is
    // both on disk and in the locker is one track; a track stays while it has a local file or
    // a locker copy. The catalog's tags are kept as the catalog has them: they become the
    // track's tags while no local file says otherwise.
    r#"
    CREATE TABLE locker_copies (
        locker_track_id TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE REFERENCES tracks(sha256) DEFERRABLE INITIALLY DEFERRED,
        size INTEGER NOT NULL,
        format TEXT NOT NULL,
        file_name TEXT NOT NULL,
        title TEXT,
        artist TEXT,
        album TEXT,
        album_artist TEXT,
        genre TEXT,
        year INTEGER,
        track_no INTEGER,
        disc_no INTEGER,
        duration_ms INTEGER,
        added_ms INTEGER NOT NULL
    );
    CREATE INDEX locker_copies_by_size ON locker_copies(size);
    "#,
    // 4: what the offline cache holds, by content. The cache itself lives beside the locker
    // state; this mirror lets track lists filter and badge by it in SQL.
    r#"
    CREATE TABLE offline_copies (
        sha256 TEXT PRIMARY KEY,
        pinned INTEGER NOT NULL,
        complete INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 5: listening state, by content: plays, hearts, ratings and resume positions follow a
    // song wherever its copies are and on whichever device it was played. `listening` holds the
    // state merged over every device (the locker's catalog merges it) and this device's own
    // plays; the tracks carry a copy of it, kept by triggers, for sorting and rule playlists.
    // Rule playlists are kept here as the catalog carries them (their rule is JSON).
    r#"
    CREATE TABLE listening (
        sha256 TEXT PRIMARY KEY,
        play_count INTEGER NOT NULL DEFAULT 0,
        own_plays INTEGER NOT NULL DEFAULT 0,
        last_played_ms INTEGER,
        loved INTEGER NOT NULL DEFAULT 0,
        rating INTEGER,
        resume_ms INTEGER
    ) WITHOUT ROWID;

    ALTER TABLE tracks ADD COLUMN last_played_ms INTEGER;
    ALTER TABLE tracks ADD COLUMN loved INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE tracks ADD COLUMN rating INTEGER;
    ALTER TABLE tracks ADD COLUMN resume_ms INTEGER;
    CREATE INDEX tracks_by_last_played ON tracks(last_played_ms, id);
    CREATE INDEX tracks_by_rating ON tracks(rating, id);
    CREATE INDEX tracks_by_loved ON tracks(loved, id);

    -- Plays counted before listening state was kept by content become this device's own.
    INSERT OR IGNORE INTO listening (sha256, play_count, own_plays, last_played_ms)
        SELECT sha256, play_count, play_count, last_played_at * 1000 FROM tracks
        WHERE sha256 IS NOT NULL AND play_count > 0;

    CREATE TRIGGER tracks_follow_listening_insert AFTER INSERT ON listening BEGIN
        UPDATE tracks SET play_count = new.play_count, last_played_ms = new.last_played_ms,
            loved = new.loved, rating = new.rating, resume_ms = new.resume_ms
        WHERE sha256 = new.sha256;
    END;
    CREATE TRIGGER tracks_follow_listening_update AFTER UPDATE ON listening BEGIN
        UPDATE tracks SET play_count = new.play_count, last_played_ms = new.last_played_ms,
            loved = new.loved, rating = new.rating, resume_ms = new.resume_ms
        WHERE sha256 = new.sha256;
    END;
    CREATE TRIGGER tracks_learn_listening AFTER UPDATE OF sha256 ON tracks WHEN new.sha256 IS NOT NULL BEGIN
        UPDATE tracks SET
            play_count = COALESCE((SELECT play_count FROM listening WHERE sha256 = new.sha256), 0),
            last_played_ms = (SELECT last_played_ms FROM listening WHERE sha256 = new.sha256),
            loved = COALESCE((SELECT loved FROM listening WHERE sha256 = new.sha256), 0),
            rating = (SELECT rating FROM listening WHERE sha256 = new.sha256),
            resume_ms = (SELECT resume_ms FROM listening WHERE sha256 = new.sha256)
        WHERE id = new.id;
    END;
    CREATE TRIGGER tracks_arrive_with_listening AFTER INSERT ON tracks WHEN new.sha256 IS NOT NULL BEGIN
        UPDATE tracks SET
            play_count = COALESCE((SELECT play_count FROM listening WHERE sha256 = new.sha256), 0),
            last_played_ms = (SELECT last_played_ms FROM listening WHERE sha256 = new.sha256),
            loved = COALESCE((SELECT loved FROM listening WHERE sha256 = new.sha256), 0),
            rating = (SELECT rating FROM listening WHERE sha256 = new.sha256),
            resume_ms = (SELECT resume_ms FROM listening WHERE sha256 = new.sha256)
        WHERE id = new.id;
    END;

    CREATE TABLE smart_playlists (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        rule TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    );
    "#,
    // 6: "Recently added", "Never played" and any rule sorted by date added read the newest
    // tracks off an index instead of sorting the whole library (docs/PERFORMANCE.md).
    r#"
    CREATE INDEX tracks_by_added ON tracks(added_at, id);
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

fn configure(connection: &Connection) -> rusqlite::Result<()> {
    connection.busy_timeout(Duration::from_secs(10))?;
    connection.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA synchronous = NORMAL;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -8000;",
    )?;
    Ok(())
}

/// Opens the writing connection, creating the file and bringing the schema up to date.
pub fn open_writer(path: &Path) -> Result<Connection> {
    let wrap = |source| LibraryError::Database { path: path.to_owned(), source };
    let mut connection = Connection::open(path).map_err(wrap)?;
    // WAL lets the readers browse while a scan writes.
    let mode: String =
        connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).map_err(wrap)?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(%mode, "the library database is not in WAL mode");
    }
    configure(&connection).map_err(wrap)?;
    // The writer touches every sort index on each insert; a bigger cache keeps their pages in
    // memory through a large scan.
    connection.pragma_update(None, "cache_size", -65_536).map_err(wrap)?;
    migrate(&mut connection).map_err(wrap)?;
    Ok(connection)
}

/// Opens a connection that only reads.
pub fn open_reader(path: &Path) -> Result<Connection> {
    let wrap = |source| LibraryError::Database { path: path.to_owned(), source };
    let flags =
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let connection = Connection::open_with_flags(path, flags).map_err(wrap)?;
    configure(&connection).map_err(wrap)?;
    Ok(connection)
}

fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    let current: usize = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > MIGRATIONS.len() {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH),
            Some(format!(
                "the database has schema version {current}, newer than this Loft knows ({}); \
                 update Loft",
                MIGRATIONS.len()
            )),
        ));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(current) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "user_version", index + 1)?;
        transaction.commit()?;
        tracing::info!(version = index + 1, "library schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_reopen_cleanly() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("library.sqlite3");
        let connection = open_writer(&path).unwrap();
        let version: usize = connection.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        drop(connection);
        let again = open_writer(&path).unwrap();
        let mode: String = again.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn the_newest_tracks_are_read_off_an_index() {
        let tmp = tempfile::tempdir().unwrap();
        let connection = open_writer(&tmp.path().join("library.sqlite3")).unwrap();
        // The query "Recently added" runs (crate::smart): without the index, SQLite scans and
        // sorts every track to find the newest hundred.
        let plan: Vec<String> = connection
            .prepare("EXPLAIN QUERY PLAN SELECT t.id FROM tracks t ORDER BY t.added_at DESC, t.id LIMIT 100")
            .unwrap()
            .query_map([], |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(plan.iter().any(|step| step.contains("tracks_by_added")), "{plan:?}");
        assert!(!plan.iter().any(|step| step == "USE TEMP B-TREE FOR ORDER BY"), "{plan:?}");
    }

    #[test]
    fn a_newer_schema_is_refused_with_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("library.sqlite3");
        let connection = Connection::open(&path).unwrap();
        connection.pragma_update(None, "user_version", 999).unwrap();
        drop(connection);
        let error = open_writer(&path).unwrap_err().to_string();
        assert!(error.contains("newer than this Loft knows"), "{error}");
    }
}
