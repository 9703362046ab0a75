//! Playlists as the service offers them: every edit goes to the library's tables and is
//! announced with [`Event::PlaylistsChanged`]; M3U8 files are read into new playlists and
//! written from existing ones.

use std::path::Path;

use loft_library::{M3u8Export, Playlist, PlaylistEntry, Unmatched};
use serde::Serialize;

use crate::{CoreError, Event, Loft};

/// What importing a playlist file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct M3u8ImportReport {
    /// The new playlist (created even when no line matched, so the user sees the result).
    pub playlist: Playlist,
    /// Entries added, in file order.
    pub added: u64,
    /// Lines that named no library track, each with its line number and the reason.
    pub unmatched: Vec<Unmatched>,
}

impl Loft {
    /// Every playlist, by name, with its entry count, total duration and how many entries are
    /// unavailable.
    pub fn playlists(&self) -> Result<Vec<Playlist>, CoreError> {
        Ok(self.library().playlists()?)
    }

    /// A playlist by id, else by name (a name several playlists share is refused).
    pub fn find_playlist(&self, id_or_name: &str) -> Result<Playlist, CoreError> {
        Ok(self.library().find_playlist(id_or_name)?)
    }

    /// A playlist's entries in order, each with its track (`None` when the track is no longer
    /// in the library: the entry stays, to be shown as unavailable).
    pub fn playlist_tracks(&self, id: &str) -> Result<Vec<PlaylistEntry>, CoreError> {
        Ok(self.library().playlist_entries(id)?)
    }

    pub fn create_playlist(&self, name: &str) -> Result<Playlist, CoreError> {
        let playlist = self.library().create_playlist(name)?;
        self.playlists_changed(&playlist.id);
        Ok(playlist)
    }

    pub fn rename_playlist(&self, id: &str, name: &str) -> Result<Playlist, CoreError> {
        let playlist = self.library().rename_playlist(id, name)?;
        self.playlists_changed(id);
        Ok(playlist)
    }

    /// Deletes the playlist (its tracks stay in the library).
    pub fn delete_playlist(&self, id: &str) -> Result<(), CoreError> {
        self.library().delete_playlist(id)?;
        self.playlists_changed(id);
        Ok(())
    }

    /// Inserts tracks at 0-based `at` (the end when `None`), in the order given; returns the
    /// new entries' ids. All or nothing: an unknown track id adds none.
    pub fn playlist_add(
        &self,
        id: &str,
        track_ids: &[i64],
        at: Option<usize>,
    ) -> Result<Vec<String>, CoreError> {
        if track_ids.is_empty() {
            return Err(CoreError::InvalidInput("no tracks to add".to_owned()));
        }
        let entries = self.library().playlist_add(id, track_ids, at)?;
        self.playlists_changed(id);
        Ok(entries)
    }

    /// Removes entries by entry id; returns how many. All or nothing.
    pub fn playlist_remove(&self, id: &str, entry_ids: &[String]) -> Result<u64, CoreError> {
        if entry_ids.is_empty() {
            return Err(CoreError::InvalidInput("no entries to remove".to_owned()));
        }
        let removed = self.library().playlist_remove(id, entry_ids)?;
        self.playlists_changed(id);
        Ok(removed)
    }

    /// Moves an entry to 0-based position `to` (the end when past it).
    pub fn playlist_move(&self, id: &str, entry_id: &str, to: usize) -> Result<(), CoreError> {
        self.library().playlist_move(id, entry_id, to)?;
        self.playlists_changed(id);
        Ok(())
    }

    /// Reads an M3U/M3U8 file into a new playlist named `name` (else the file's own name).
    /// Lines that match no library track are reported, never fatal.
    pub fn import_m3u8(&self, path: &Path, name: Option<&str>) -> Result<M3u8ImportReport, CoreError> {
        let read = self.library().read_m3u8(path)?;
        let name = name.map(str::to_owned).unwrap_or(read.name);
        let playlist = self.library().create_playlist(&name)?;
        if !read.track_ids.is_empty()
            && let Err(error) = self.library().playlist_add(&playlist.id, &read.track_ids, None)
        {
            // Half an import is worse than none: the user would not know what is missing.
            let _ = self.library().delete_playlist(&playlist.id);
            return Err(error.into());
        }
        self.playlists_changed(&playlist.id);
        let playlist = self.find_playlist(&playlist.id)?;
        Ok(M3u8ImportReport { playlist, added: read.track_ids.len() as u64, unmatched: read.unmatched })
    }

    /// Writes a playlist to an M3U8 file; entries with no file on this computer become comment
    /// lines, listed in the result.
    pub fn export_m3u8(&self, id: &str, path: &Path) -> Result<M3u8Export, CoreError> {
        Ok(self.library().write_m3u8(id, path)?)
    }

    fn playlists_changed(&self, id: &str) {
        self.events().emit(Event::PlaylistsChanged { ids: vec![id.to_owned()] });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, mpsc};

    use super::*;

    #[test]
    fn edits_announce_the_playlist_and_bad_input_changes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let (sender, receiver) = mpsc::channel();
        let loft = Loft::open_with_events(tmp.path(), Arc::new(sender)).unwrap();
        let playlist = loft.create_playlist("Evening").unwrap();
        loft.rename_playlist(&playlist.id, "Night").unwrap();
        let events: Vec<Event> = receiver.try_iter().collect();
        assert_eq!(
            events,
            [
                Event::PlaylistsChanged { ids: vec![playlist.id.clone()] },
                Event::PlaylistsChanged { ids: vec![playlist.id.clone()] }
            ]
        );

        assert_eq!(loft.playlist_add(&playlist.id, &[], None).unwrap_err().kind(), "invalid_input");
        assert_eq!(loft.playlist_add(&playlist.id, &[42], None).unwrap_err().kind(), "not_found");
        assert_eq!(loft.create_playlist(" ").unwrap_err().kind(), "invalid_input");
        assert_eq!(loft.delete_playlist("no such id").unwrap_err().kind(), "not_found");
        assert!(receiver.try_iter().next().is_none(), "failed edits announce nothing");
        assert!(loft.playlist_tracks(&playlist.id).unwrap().is_empty());

        let json = serde_json::to_value(Event::PlaylistsChanged { ids: vec!["p".into()] }).unwrap();
        assert_eq!(json, serde_json::json!({"type": "playlists_changed", "ids": ["p"]}));
        loft.delete_playlist(&playlist.id).unwrap();
        assert!(loft.playlists().unwrap().is_empty());
    }
}
