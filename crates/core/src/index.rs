//! The catalog into the index: what a sync reports becomes rows of the library (tracks with a
//! locker copy, mirrored playlists, listening state, rule playlists), and the events that tell
//! the front ends to reload.

use loft_library::{Library, LockerApplied, LockerCopy, MirroredEntry, MirroredPlaylist};

use crate::{CoreError, Event, SharedSink};

/// The index's view of a catalog track.
pub(crate) fn locker_copy(track: &loft_locker::Track) -> LockerCopy {
    LockerCopy {
        id: track.id.clone(),
        size: track.size,
        file_name: track.file_name.clone(),
        title: track.title.clone(),
        artist: track.artist.clone(),
        album: track.album.clone(),
        album_artist: track.album_artist.clone(),
        genre: track.genre.clone(),
        year: track.year,
        track_no: track.track_number,
        disc_no: track.disc_number,
        duration_ms: track.duration_ms,
        added_ms: track.added.wall_ms,
    }
}

/// The library's form of the catalog's listening state.
pub(crate) fn listening(state: &loft_locker::Listening) -> loft_library::Listening {
    loft_library::Listening {
        sha256: state.track.clone(),
        play_count: state.play_count,
        last_played_ms: state.last_played_ms,
        loved: state.loved,
        rating: state.rating,
        resume_ms: state.resume_ms,
    }
}

pub(crate) fn emit_library_changed(events: &SharedSink, applied: &LockerApplied, merged: u64) {
    if applied.changed_anything() || merged > 0 {
        events.emit(Event::LibraryChanged {
            added: applied.added,
            updated: applied.updated + merged,
            moved: 0,
            removed: applied.removed,
        });
    }
}

/// Copies playlists as the catalog has them into the local tables, and announces them.
/// Entries whose track is in neither the library nor the locker are kept as unavailable. Apply
/// the report's tracks first, so the entries find them.
pub(crate) fn mirror_playlists(
    library: &Library,
    events: &SharedSink,
    changed: &[loft_locker::Playlist],
    deleted: &[String],
) -> Result<(), CoreError> {
    let mut ids = Vec::new();
    for playlist in changed {
        let entries = playlist
            .entries
            .iter()
            .map(|entry| MirroredEntry {
                entry_id: entry.entry_id.clone(),
                sha256: entry.track_id.clone(),
                title: String::new(),
                artist: String::new(),
                duration_ms: 0,
            })
            .collect();
        library.mirror_playlist(&MirroredPlaylist {
            id: playlist.id.clone(),
            name: playlist.name.clone(),
            entries,
        })?;
        ids.push(playlist.id.clone());
    }
    for id in deleted {
        if library.forget_playlist(id)? {
            ids.push(id.clone());
        }
    }
    if !ids.is_empty() {
        events.emit(Event::PlaylistsChanged { ids });
    }
    Ok(())
}

/// Applies the catalog's listening state and rule playlists; tells the front ends when
/// anything changed.
pub(crate) fn apply_listening_and_rules(
    library: &Library,
    events: &SharedSink,
    listening_changed: &[loft_locker::Listening],
    smart_changed: &[loft_locker::SmartPlaylist],
    smart_deleted: &[String],
) -> Result<(), CoreError> {
    let states: Vec<loft_library::Listening> = listening_changed.iter().map(listening).collect();
    let changed = library.apply_listening(&states)?;
    if changed > 0 {
        events.emit(Event::LibraryChanged { added: 0, updated: changed, moved: 0, removed: 0 });
    }
    let mut ids = Vec::new();
    for playlist in smart_changed {
        match loft_library::SmartRule::from_json(&playlist.rule) {
            Ok(rule) => {
                library.put_smart_playlist(&playlist.id, &playlist.name, &rule)?;
                ids.push(playlist.id.clone());
            }
            // A rule a newer Loft wrote: it stays in the catalog, this one cannot show it.
            Err(error) => tracing::warn!(id = %playlist.id, %error, "a rule playlist this Loft cannot read"),
        }
    }
    for id in smart_deleted {
        if library.delete_smart_playlist(id)? {
            ids.push(id.clone());
        }
    }
    if !ids.is_empty() {
        events.emit(Event::PlaylistsChanged { ids });
    }
    Ok(())
}
