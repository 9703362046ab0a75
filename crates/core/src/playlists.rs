//! Playlists as the service offers them: every edit goes to the library's tables and is
//! announced with [`Event::PlaylistsChanged`]; M3U8 files are read into new playlists and
//! written from existing ones.
//!
//! With a locker connected, the locker's catalog is where a playlist lives: each edit is
//! recorded in the catalog (applied to this device's copy of it and kept in the outbox, with
//! the catalog's ids, tracks named by content hash), then applied to the local tables under the
//! same ids — at once, whether or not the locker can be reached; the outbox goes out at the next
//! sync. Playlists a sync brings in are copied exactly: the catalog's merge decides, the local
//! tables mirror it. A playlist made before the locker was connected is not in the catalog and
//! stays on this device until [`Loft::publish_playlists_to_locker`] puts it there.

use std::path::Path;

use loft_library::{LockerCopy, M3u8Export, Playlist, PlaylistEntry, Unmatched};
use serde::Serialize;

use crate::index::{locker_copy, mirror_playlists};
use crate::{CoreError, Event, Loft};

/// What importing a playlist file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct M3u8ImportReport {
    /// The new playlist (created even when no line matched, so the user sees the result).
    pub playlist: Playlist,
    /// Entries added, in file order.
    pub added: u64,
    /// Lines that named no library track, each with its line number and the reason.
    pub unmatched: Vec<Unmatched>,
}

/// What publishing this device's own playlists to the locker did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PublishReport {
    /// The catalog ids of the playlists now in the locker.
    pub published: Vec<String>,
    /// Names of playlists left on this device only, because an entry's content is unknown.
    pub kept_local: Vec<String>,
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
        self.refresh_offline_index()?;
        Ok(self.library().playlist_entries(id)?)
    }

    pub fn create_playlist(&self, name: &str) -> Result<Playlist, CoreError> {
        let name = loft_library::clean_playlist_name(name)?;
        let playlist = match self.connected()? {
            Some(opened) => {
                let id = self.record_in(&opened.locker, opened.locker.create_playlist(&name))?;
                self.library().create_playlist_with_id(&id, &name)?
            }
            None => self.library().create_playlist(&name)?,
        };
        self.playlists_changed(&playlist.id);
        Ok(playlist)
    }

    pub fn rename_playlist(&self, id: &str, name: &str) -> Result<Playlist, CoreError> {
        let name = loft_library::clean_playlist_name(name)?;
        self.require_playlist(id)?;
        if let Some(locker) = self.locker_holding(id)? {
            self.record_in(&locker, locker.rename_playlist(id, &name))?;
        }
        let playlist = self.library().rename_playlist(id, &name)?;
        self.playlists_changed(id);
        Ok(playlist)
    }

    /// Deletes the playlist (its tracks stay in the library).
    pub fn delete_playlist(&self, id: &str) -> Result<(), CoreError> {
        self.require_playlist(id)?;
        if let Some(locker) = self.locker_holding(id)? {
            self.record_in(&locker, locker.delete_playlist(id))?;
        }
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
        self.require_playlist(id)?;
        let Some(locker) = self.locker_holding(id)? else {
            let entries = self.library().playlist_add(id, track_ids, at)?;
            self.playlists_changed(id);
            return Ok(entries);
        };
        // The catalog names tracks by content; hashing may merge a track into its twin, so the
        // local ids are looked up again by hash.
        let hashes = self.library().content_hashes(track_ids)?;
        let mut tracks = Vec::with_capacity(track_ids.len());
        for (track, hash) in track_ids.iter().zip(hashes) {
            let hash = hash.ok_or_else(|| {
                CoreError::InvalidInput(format!(
                    "Track {track} has no file on this computer to read its content from, so it \
                     cannot be added to a playlist in the locker"
                ))
            })?;
            let local = self.library().track_id_for_sha256(&hash)?.unwrap_or(*track);
            tracks.push((local, hash));
        }
        let hashes: Vec<String> = tracks.iter().map(|(_, hash)| hash.clone()).collect();
        let entries = self.record_in(&locker, locker.playlist_add_many(id, &hashes, at))?;
        let added: Vec<(String, i64)> =
            entries.into_iter().zip(tracks.iter().map(|(local, _)| *local)).collect();
        self.library().playlist_add_entries(id, &added, at)?;
        self.playlists_changed(id);
        Ok(added.into_iter().map(|(entry, _)| entry).collect())
    }

    /// Removes entries by entry id (an id given twice counts once); returns how many. All or
    /// nothing.
    pub fn playlist_remove(&self, id: &str, entry_ids: &[String]) -> Result<u64, CoreError> {
        if entry_ids.is_empty() {
            return Err(CoreError::InvalidInput("no entries to remove".to_owned()));
        }
        let mut unique: Vec<String> = Vec::with_capacity(entry_ids.len());
        for entry in entry_ids {
            if !unique.contains(entry) {
                unique.push(entry.clone());
            }
        }
        let entry_ids = unique.as_slice();
        let present: Vec<String> = self.playlist_tracks(id)?.into_iter().map(|e| e.entry_id).collect();
        if let Some(missing) = entry_ids.iter().find(|entry| !present.contains(entry)) {
            return Err(loft_library::LibraryError::UnknownPlaylistEntry {
                playlist: id.to_owned(),
                entry: missing.clone(),
            }
            .into());
        }
        if let Some(locker) = self.locker_holding(id)? {
            self.record_in(&locker, locker.playlist_remove_many(id, entry_ids))?;
        }
        let removed = self.library().playlist_remove(id, entry_ids)?;
        self.playlists_changed(id);
        Ok(removed)
    }

    /// Moves an entry to 0-based position `to` (the end when past it).
    pub fn playlist_move(&self, id: &str, entry_id: &str, to: usize) -> Result<(), CoreError> {
        if !self.playlist_tracks(id)?.iter().any(|entry| entry.entry_id == entry_id) {
            return Err(loft_library::LibraryError::UnknownPlaylistEntry {
                playlist: id.to_owned(),
                entry: entry_id.to_owned(),
            }
            .into());
        }
        if let Some(locker) = self.locker_holding(id)? {
            self.record_in(&locker, locker.playlist_move(id, entry_id, to))?;
        }
        self.library().playlist_move(id, entry_id, to)?;
        self.playlists_changed(id);
        Ok(())
    }

    /// Copies the playlists a locker sync reported into the local tables, exactly as the
    /// catalog has them, and announces them. Entries whose track is in neither the library nor
    /// the locker are kept as unavailable. Makes no locker calls, so it can run anywhere the
    /// sync report is at hand; apply the sync's tracks first, so the entries find them.
    pub fn apply_locker_playlists(
        &self,
        changed: &[loft_locker::Playlist],
        deleted: &[String],
    ) -> Result<(), CoreError> {
        mirror_playlists(self.library(), self.events(), changed, deleted)
    }

    /// Reads an M3U/M3U8 file into a new playlist named `name` (else the file's own name).
    /// Lines that match no library track are reported, never fatal.
    pub fn import_m3u8(&self, path: &Path, name: Option<&str>) -> Result<M3u8ImportReport, CoreError> {
        let read = self.library().read_m3u8(path)?;
        let name = name.map(str::to_owned).unwrap_or(read.name);
        let playlist = self.create_playlist(&name)?;
        if !read.track_ids.is_empty()
            && let Err(error) = self.playlist_add(&playlist.id, &read.track_ids, None)
        {
            // Half an import is worse than none: the user would not know what is missing.
            let _ = self.delete_playlist(&playlist.id);
            return Err(error);
        }
        let playlist = self.find_playlist(&playlist.id)?;
        Ok(M3u8ImportReport { playlist, added: read.track_ids.len() as u64, unmatched: read.unmatched })
    }

    /// Writes a playlist to an M3U8 file; entries with no file on this computer become comment
    /// lines, listed in the result.
    pub fn export_m3u8(&self, id: &str, path: &Path) -> Result<M3u8Export, CoreError> {
        Ok(self.library().write_m3u8(id, path)?)
    }

    /// Puts the playlists that live on this device only (made before a locker was connected)
    /// into the connected locker's catalog, so every device sees them. Each gets the catalog's
    /// ids; the local copy is replaced by the published one. A playlist with an entry whose
    /// content is unknown (no file here and never hashed) stays local, named in the result.
    /// Call it once a sync has been applied: a playlist another device deleted must be gone
    /// here first, or it would come back.
    pub fn publish_playlists_to_locker(&self) -> Result<PublishReport, CoreError> {
        let locker = self.connected_locker()?;
        self.pull_locker(&locker)?;
        let mut report = PublishReport::default();
        for playlist in self.playlists()? {
            if self.hub.block_on(locker.playlist(&playlist.id)).is_some() {
                continue;
            }
            let entries = self.playlist_tracks(&playlist.id)?;
            let mut hashes = Vec::with_capacity(entries.len());
            for entry in &entries {
                let hash = match (&entry.sha256, &entry.track) {
                    (Some(hash), _) => Some(hash.clone()),
                    (None, Some(track)) => self.library().content_hashes(&[track.id])?.pop().flatten(),
                    (None, None) => None,
                };
                hashes.push(hash);
            }
            let Some(hashes) = hashes.into_iter().collect::<Option<Vec<String>>>() else {
                report.kept_local.push(playlist.name.clone());
                continue;
            };
            let id = self.hub.block_on(locker.create_playlist(&playlist.name))?;
            self.hub.block_on(locker.playlist_add_many(&id, &hashes, None))?;
            let published = self.hub.block_on(locker.playlist(&id)).ok_or_else(|| {
                CoreError::InvalidInput(format!("the locker lost the playlist {id} while it was written"))
            })?;
            self.apply_locker_playlists(&[published], &[])?;
            self.library().forget_playlist(&playlist.id)?;
            self.playlists_changed(&playlist.id);
            report.published.push(id);
        }
        Ok(report)
    }

    fn require_playlist(&self, id: &str) -> Result<(), CoreError> {
        match self.library().playlist(id)? {
            Some(_) => Ok(()),
            None => Err(loft_library::LibraryError::UnknownPlaylist(id.to_owned()).into()),
        }
    }

    /// The connected locker if its catalog holds this playlist; `None` for a playlist that
    /// lives on this device only (no locker, or made before one was connected). This device's
    /// copy of the catalog holds everything it recorded itself, so no network is needed.
    fn locker_holding(&self, id: &str) -> Result<Option<loft_locker::Locker>, CoreError> {
        let Some(opened) = self.connected()? else { return Ok(None) };
        let holds = self.hub.block_on(opened.locker.playlist(id)).is_some();
        Ok(holds.then_some(opened.locker))
    }

    /// Records an edit in the locker's catalog (applied to this device's copy at once, written
    /// to the locker now or at the next sync), and tells the window how many edits wait.
    fn record_in<T>(
        &self,
        locker: &loft_locker::Locker,
        edit: impl Future<Output = Result<T, loft_locker::LockerError>>,
    ) -> Result<T, CoreError> {
        let recorded = self.hub.block_on(edit)?;
        self.hub.block_on(self.hub.emit_pending(locker));
        self.request_locker_sync();
        Ok(recorded)
    }

    /// Brings this process's copy of the locker catalog up to date and applies everything the
    /// pull reports to the index, tracks as well as playlists, so nothing it hands over is lost.
    fn pull_locker(&self, locker: &loft_locker::Locker) -> Result<(), CoreError> {
        let report = self.hub.session.note(self.hub.block_on(locker.pull()))?;
        let copies: Vec<LockerCopy> = report.tracks_changed.iter().map(locker_copy).collect();
        if !copies.is_empty() || !report.tracks_removed.is_empty() {
            let applied = self.library().apply_locker_changes(&copies, &report.tracks_removed)?;
            crate::index::emit_library_changed(self.events(), &applied, 0);
        }
        self.apply_locker_playlists(&report.playlists_changed, &report.playlists_deleted)?;
        crate::index::apply_listening_and_rules(
            self.library(),
            self.events(),
            &report.listening_changed,
            &report.smart_changed,
            &report.smart_deleted,
        )?;
        self.hub.block_on(locker.report_applied())?;
        Ok(())
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

        let track_free = loft.playlist_remove(&playlist.id, &["absent".to_owned()]).unwrap_err();
        assert_eq!(track_free.kind(), "not_found");

        let json = serde_json::to_value(Event::PlaylistsChanged { ids: vec!["p".into()] }).unwrap();
        assert_eq!(json, serde_json::json!({"type": "playlists_changed", "ids": ["p"]}));
        loft.delete_playlist(&playlist.id).unwrap();
        assert!(loft.playlists().unwrap().is_empty());
    }
}
