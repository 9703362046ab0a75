//! Files handed to a front end from outside — the command line, the file manager's "Open with",
//! a second launch of the app — played as a queue without being added to the library.
//!
//! Folders are walked recursively (the library scan's walker and format table decide what
//! plays), M3U/M3U8 files stand for the files they list, and a file the library already knows
//! plays as that track, so the front end shows its tags, cover and play count.

use std::fs::File;
use std::path::{Path, PathBuf};

use loft_audio::QueueItem;
use loft_media::{ReadOptions, Walk, WalkItem};

use crate::{CoreError, Loft};

/// The most files one opening queues: a folder of a whole disk must not exhaust memory.
pub const MAX_OPENED_FILES: usize = 50_000;

/// What opening some paths found to play.
#[derive(Debug, Default)]
pub struct OpenedFiles {
    /// In the order given, folders in the walker's (name) order, playlists in theirs.
    pub items: Vec<QueueItem>,
    /// Paths given that are neither a playable file, a playlist nor a folder.
    pub skipped: Vec<PathBuf>,
}

/// The tags of a file outside the library, for a front end that shows what plays.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct FileTags {
    pub title: String,
    pub artist: String,
    pub album: String,
    pub duration_secs: Option<f64>,
}

/// Whether a path names a playlist file by its extension.
pub fn is_playlist_file(path: &Path) -> bool {
    loft_media::extension_of(path)
        .is_some_and(|ext| ext.eq_ignore_ascii_case("m3u") || ext.eq_ignore_ascii_case("m3u8"))
}

/// The playable files `paths` stand for, in order, at most [`MAX_OPENED_FILES`].
pub fn playable_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        if files.len() >= MAX_OPENED_FILES {
            break;
        }
        if path.is_dir() {
            let mut walk = Walk::new().files_named(|name| loft_media::is_playable(Path::new(name)));
            walk.add_root(path);
            for item in walk {
                match item {
                    WalkItem::Folder(folder) => files.extend(folder.files.into_iter().map(|file| file.path)),
                    WalkItem::Unreadable { path, error, .. } => {
                        tracing::warn!(path = %path.display(), %error, "cannot read part of an opened folder");
                    }
                }
                if files.len() >= MAX_OPENED_FILES {
                    break;
                }
            }
        } else if path.is_file() && is_playlist_file(path) {
            match loft_library::m3u_file_paths(path) {
                Ok(listed) => files.extend(listed.into_iter().filter(|file| loft_media::is_playable(file))),
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "cannot read an opened playlist");
                    skipped.push(path.clone());
                }
            }
        } else if path.is_file() && loft_media::is_playable(path) {
            files.push(path.clone());
        } else {
            skipped.push(path.clone());
        }
    }
    files.truncate(MAX_OPENED_FILES);
    (files, skipped)
}

/// The folders opened paths live in: a folder itself, a file's (or playlist's) parent, each
/// once, in order.
pub fn folders_of(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = Vec::new();
    for path in paths {
        let folder = if path.is_dir() { Some(path.as_path()) } else { path.parent() };
        if let Some(folder) = folder.filter(|folder| !folder.as_os_str().is_empty())
            && !folders.iter().any(|known| known == folder)
        {
            folders.push(folder.to_owned());
        }
    }
    folders
}

impl Loft {
    /// Adds the folders of opened paths to the library, those not in it already (themselves
    /// or under a library folder), and returns how many were added. The caller scans.
    pub fn add_folders_of(&self, paths: &[PathBuf]) -> Result<usize, CoreError> {
        let mut known: Vec<PathBuf> = self.library_folders()?.into_iter().map(|folder| folder.path).collect();
        let mut added = 0;
        for folder in folders_of(paths) {
            if known.iter().any(|library_folder| folder.starts_with(library_folder)) {
                continue;
            }
            known.push(self.add_library_folder(&folder)?.path);
            added += 1;
        }
        Ok(added)
    }

    /// Queue items for files, folders and playlist files given from outside, without adding
    /// anything to the library. A file the library knows plays as its track.
    pub fn open_paths(&self, paths: &[PathBuf]) -> Result<OpenedFiles, CoreError> {
        let (files, skipped) = playable_files(paths);
        let mut items = Vec::with_capacity(files.len());
        for file in files {
            let known = self.library().track_id_for_path(&file)?;
            let item = known
                .and_then(|track_id| self.queue_items(&[track_id]).ok())
                .and_then(|mut found| found.pop())
                .unwrap_or_else(|| QueueItem::file(&file));
            items.push(item);
        }
        Ok(OpenedFiles { items, skipped })
    }

    /// The tags of a file outside the library; `None` when it cannot be read as audio.
    pub fn file_tags(&self, path: &Path) -> Option<FileTags> {
        let file = File::open(path).ok()?;
        let read = loft_media::read_tags(file, loft_media::extension_of(path), ReadOptions::default());
        match read {
            Ok(media) => Some(FileTags {
                title: media.tags.title,
                artist: media.tags.artist,
                album: media.tags.album,
                duration_secs: (media.tags.duration_ms > 0).then(|| media.tags.duration_ms as f64 / 1000.0),
            }),
            Err(error) => {
                tracing::debug!(path = %path.display(), %error, "cannot read the tags of an opened file");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_recurse_playlists_expand_and_the_rest_is_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let music = tmp.path().join("music");
        std::fs::create_dir_all(music.join("disc 2")).unwrap();
        for name in ["b.flac", "a.mp3", "cover.jpg", "disc 2/c.ogg"] {
            std::fs::write(music.join(name), b"x").unwrap();
        }
        let lone = tmp.path().join("lone.opus");
        std::fs::write(&lone, b"x").unwrap();
        let playlist = tmp.path().join("list.m3u");
        std::fs::write(&playlist, "#EXTM3U\nlone.opus\nmusic/cover.jpg\nmusic/a.mp3\n").unwrap();
        let notes = tmp.path().join("notes.txt");
        std::fs::write(&notes, b"x").unwrap();

        let (files, skipped) = playable_files(&[
            lone.clone(),
            music.clone(),
            playlist,
            notes.clone(),
            tmp.path().join("gone.mp3"),
        ]);
        assert_eq!(
            files,
            vec![
                lone.clone(),
                music.join("a.mp3"),
                music.join("b.flac"),
                music.join("disc 2/c.ogg"),
                lone,
                music.join("a.mp3")
            ]
        );
        assert_eq!(skipped, vec![notes, tmp.path().join("gone.mp3")]);
    }

    #[test]
    fn the_folders_of_opened_paths_join_the_library_once() {
        let tmp = tempfile::tempdir().unwrap();
        let loft = Loft::open(tmp.path().join("profile")).unwrap();
        let album = tmp.path().join("album");
        std::fs::create_dir_all(album.join("cd2")).unwrap();
        let song = album.join("a.flac");
        std::fs::write(&song, b"x").unwrap();
        let paths = [song.clone(), album.join("cd2"), album.clone()];
        assert_eq!(folders_of(&paths), vec![album.clone(), album.join("cd2")]);
        assert_eq!(loft.add_folders_of(&paths).unwrap(), 1, "cd2 is under the album, added first");
        assert_eq!(loft.add_folders_of(&[song]).unwrap(), 0, "already in the library");
        let folders: Vec<PathBuf> = loft.library_folders().unwrap().into_iter().map(|f| f.path).collect();
        assert_eq!(folders.len(), 1);
    }

    #[test]
    fn opened_files_play_as_bare_files_outside_the_library() {
        let tmp = tempfile::tempdir().unwrap();
        let loft = Loft::open(tmp.path().join("profile")).unwrap();
        let song = tmp.path().join("song.flac");
        std::fs::write(&song, b"not really flac").unwrap();
        let opened = loft.open_paths(std::slice::from_ref(&song)).unwrap();
        assert_eq!(opened.items.len(), 1);
        assert_eq!(opened.items[0].track_id, 0);
        assert_eq!(opened.items[0].name(), song.display().to_string());
        assert_eq!(
            loft.count_tracks(Default::default()).unwrap(),
            0,
            "opening a file must not add it to the library"
        );
        assert_eq!(loft.file_tags(&song), None, "a file that is not audio has no tags");
    }
}
