//! M3U8 playlist files: reading one into library tracks, writing a playlist out as one.
//!
//! Export writes `#EXTM3U`, a `#PLAYLIST:` name line, then per entry `#EXTINF:seconds,Artist -
//! Title` and the file's path: relative (with `/`) when the file sits under the playlist file's
//! folder, absolute otherwise. Entries with no file on this computer (in the locker only, or no
//! longer in the library) become `#` comment lines naming them, so the file says what it left out.
//!
//! Import reads UTF-8 with or without a byte-order mark and any line ending, resolves each
//! path (relative to the playlist file, absolute, or a `file://` URL) to a library track, and
//! lists every line it could not match with the reason. A bad line never stops the rest.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{LibraryError, Result};
use crate::{Library, paths};

/// What reading a playlist file found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct M3u8Import {
    /// The name the file gives itself (`#PLAYLIST:`), else the file's name without extension.
    pub name: String,
    /// The tracks matched, in file order.
    pub track_ids: Vec<i64>,
    pub unmatched: Vec<Unmatched>,
}

/// A line of a playlist file that names no library track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct Unmatched {
    /// 1-based line number in the file.
    pub line: usize,
    /// The line as written.
    pub entry: String,
    pub reason: String,
}

/// What writing a playlist file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct M3u8Export {
    pub path: PathBuf,
    /// Entries written as playable paths.
    pub written: u64,
    /// Entries written only as comments, with why.
    pub not_written: Vec<NotExported>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct NotExported {
    /// 0-based place in the playlist.
    pub position: u64,
    /// "Artist - Title".
    pub name: String,
    pub reason: String,
}

const IN_LOCKER_ONLY: &str = "in the locker only, no file on this computer";
const NOT_IN_LIBRARY: &str = "no longer in the library";

/// Keeps tag text on one line of the file.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Decodes `%XX` escapes; anything malformed is kept as written.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let Some(hex) = bytes.get(index + 1..index + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(value) = u8::from_str_radix(hex, 16)
        {
            out.push(value);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    out
}

/// The scheme of a URL-like line (`http`, `file`), not mistaking a Windows drive (`C:\`) for one.
fn url_scheme(line: &str) -> Option<&str> {
    let (scheme, _) = line.split_once("://")?;
    let valid =
        scheme.len() > 1 && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

/// The path a `file://` URL names, or why it names none here.
fn file_url_path(line: &str) -> std::result::Result<PathBuf, String> {
    let rest = &line["file://".len()..];
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return Err("a file URL on another computer".to_owned());
    }
    let decoded = percent_decode(rest);
    // file:///C:/Music/x.mp3 names C:/Music/x.mp3 on Windows.
    let decoded =
        if cfg!(windows) && decoded.get(2) == Some(&b':') { decoded[1..].to_vec() } else { decoded };
    Ok(paths::from_bytes(&decoded))
}

/// The files an M3U/M3U8 file lists, in its order, whether or not they are in the library: what
/// opening the playlist file as a queue plays. Lines that name no file here (URLs other than
/// `file://`, files that do not exist, lines that are not UTF-8) are left out; only a playlist
/// that cannot be read at all is an error.
pub fn m3u_file_paths(file: &Path) -> Result<Vec<PathBuf>> {
    let bytes =
        std::fs::read(file).map_err(|source| LibraryError::PlaylistFile { path: file.to_owned(), source })?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let base = file.parent().map(Path::to_owned).unwrap_or_default();
    let mut found = Vec::new();
    for raw in bytes.split(|&b| b == b'\n') {
        let Ok(text) = std::str::from_utf8(raw) else { continue };
        let line = text.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut candidates = Vec::new();
        match url_scheme(line) {
            Some(scheme) if scheme.eq_ignore_ascii_case("file") => {
                candidates.extend(file_url_path(line).ok())
            }
            Some(_) => {}
            None => {
                candidates.push(base.join(line));
                // A playlist written on Windows, read elsewhere.
                if cfg!(not(windows)) && line.contains('\\') {
                    candidates.push(base.join(line.replace('\\', "/")));
                }
            }
        }
        found.extend(candidates.into_iter().find(|candidate| candidate.is_file()));
    }
    Ok(found)
}

impl Library {
    /// Reads an M3U/M3U8 file and matches its entries to library tracks. Only a file that
    /// cannot be read at all is an error; each bad line becomes an [`Unmatched`].
    pub fn read_m3u8(&self, file: &Path) -> Result<M3u8Import> {
        let bytes = std::fs::read(file)
            .map_err(|source| LibraryError::PlaylistFile { path: file.to_owned(), source })?;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let base = file.parent().map(Path::to_owned).unwrap_or_default();
        let mut name = None;
        let mut track_ids = Vec::new();
        let mut unmatched = Vec::new();
        for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            let number = index + 1;
            let Ok(text) = std::str::from_utf8(raw) else {
                unmatched.push(Unmatched {
                    line: number,
                    entry: String::from_utf8_lossy(raw).trim().to_owned(),
                    reason: "the line is not valid UTF-8".to_owned(),
                });
                continue;
            };
            let line = text.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                if let Some(title) = comment.strip_prefix("PLAYLIST:") {
                    name = Some(title.trim().to_owned()).filter(|t| !t.is_empty());
                }
                continue;
            }
            match self.resolve_entry(&base, line) {
                Ok(track) => track_ids.push(track),
                Err(reason) => unmatched.push(Unmatched { line: number, entry: line.to_owned(), reason }),
            }
        }
        let name = name.unwrap_or_else(|| {
            file.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default()
        });
        Ok(M3u8Import { name, track_ids, unmatched })
    }

    /// The track a playlist line names, or why there is none.
    fn resolve_entry(&self, base: &Path, line: &str) -> std::result::Result<i64, String> {
        let path = match url_scheme(line) {
            Some(scheme) if scheme.eq_ignore_ascii_case("file") => file_url_path(line)?,
            Some(scheme) => return Err(format!("a {scheme} URL, not a file")),
            None => base.join(line),
        };
        let mut candidates = vec![path.clone()];
        // A playlist written on Windows, read elsewhere.
        if cfg!(not(windows)) && line.contains('\\') && url_scheme(line).is_none() {
            candidates.push(base.join(line.replace('\\', "/")));
        }
        for candidate in &candidates {
            let lookup = |path: &Path| self.track_id_for_path(path).map_err(|e| e.to_string());
            if let Some(track) = lookup(candidate)? {
                return Ok(track);
            }
            if let Ok(canonical) = std::fs::canonicalize(candidate)
                && let Some(track) = lookup(&canonical)?
            {
                return Ok(track);
            }
        }
        if candidates.iter().any(|candidate| candidate.exists()) {
            Err("the file is not in the library (add its folder and scan)".to_owned())
        } else {
            Err(format!("no such file: {}", path.display()))
        }
    }

    /// Writes playlist `id` to `file` as M3U8, replacing it whole (a failed write leaves any
    /// previous file as it was).
    pub fn write_m3u8(&self, id: &str, file: &Path) -> Result<M3u8Export> {
        let playlist = self.playlist(id)?.ok_or_else(|| LibraryError::UnknownPlaylist(id.to_owned()))?;
        let entries = self.playlist_entries(id)?;
        let file_error = |source| LibraryError::PlaylistFile { path: file.to_owned(), source };
        let folder = match file.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(parent) => parent.to_owned(),
            None => PathBuf::from("."),
        };
        let folder = std::fs::canonicalize(&folder).map_err(file_error)?;

        let mut text = format!("#EXTM3U\n#PLAYLIST:{}\n", one_line(&playlist.name));
        let mut written = 0;
        let mut not_written = Vec::new();
        for entry in &entries {
            let name = format!("{} - {}", one_line(&entry.artist), one_line(&entry.title));
            let local = match &entry.track {
                Some(track) => self.track_path(track.id)?,
                None => None,
            };
            let reason = match (&entry.track, &local) {
                (Some(_), Some(path)) => match path_line(&folder, path) {
                    Some(line) => {
                        let seconds = if entry.duration_ms == 0 {
                            -1
                        } else {
                            ((entry.duration_ms + 500) / 1000) as i64
                        };
                        text.push_str(&format!("#EXTINF:{seconds},{name}\n{line}\n"));
                        written += 1;
                        continue;
                    }
                    None => "its path is not valid UTF-8".to_owned(),
                },
                (Some(_), None) => IN_LOCKER_ONLY.to_owned(),
                (None, _) => NOT_IN_LIBRARY.to_owned(),
            };
            let hash = entry.sha256.as_deref().map(|h| format!(" [sha256 {h}]")).unwrap_or_default();
            text.push_str(&format!("# not exported ({reason}): {name}{hash}\n"));
            not_written.push(NotExported { position: entry.position, name, reason });
        }

        let file_name = file
            .file_name()
            .ok_or_else(|| LibraryError::InvalidPlaylist(format!("{} is not a file name", file.display())))?;
        let mut partial_name = file_name.to_owned();
        partial_name.push(".partial");
        let partial = folder.join(partial_name);
        let write = || -> std::io::Result<()> {
            let mut out = std::fs::File::create(&partial)?;
            out.write_all(text.as_bytes())?;
            out.sync_all()?;
            std::fs::rename(&partial, folder.join(file_name))
        };
        if let Err(source) = write() {
            let _ = std::fs::remove_file(&partial);
            return Err(file_error(source));
        }
        Ok(M3u8Export { path: folder.join(file_name), written, not_written })
    }
}

/// The line naming `track` in a playlist file kept in `folder`: relative with `/` when under
/// it, absolute otherwise; `None` when the path cannot be written as UTF-8.
fn path_line(folder: &Path, track: &Path) -> Option<String> {
    if let Ok(relative) = track.strip_prefix(folder) {
        let parts: Option<Vec<&str>> = relative.components().map(|c| c.as_os_str().to_str()).collect();
        let line = parts?.join("/");
        // A name starting with '#' would read back as a comment.
        return Some(if line.starts_with('#') { format!("./{line}") } else { line });
    }
    track.to_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_decode_and_foreign_hosts_are_refused() {
        assert_eq!(
            file_url_path("file:///music/Sigur%20R%C3%B3s/a.mp3").unwrap(),
            PathBuf::from("/music/Sigur Rós/a.mp3")
        );
        assert_eq!(file_url_path("file://localhost/a%2.mp3").unwrap(), PathBuf::from("/a%2.mp3"));
        assert!(file_url_path("file://nas/share/a.mp3").unwrap_err().contains("another computer"));
    }

    #[test]
    fn url_schemes_are_told_from_drive_letters() {
        assert_eq!(url_scheme("https://radio.example/stream"), Some("https"));
        assert_eq!(url_scheme("C://odd"), None);
        assert_eq!(url_scheme("music/a.mp3"), None);
    }

    #[test]
    fn paths_under_the_folder_are_relative_and_never_read_as_comments() {
        let folder = Path::new("/music");
        assert_eq!(path_line(folder, Path::new("/music/a/b.mp3")).unwrap(), "a/b.mp3");
        assert_eq!(path_line(folder, Path::new("/music/#1.mp3")).unwrap(), "./#1.mp3");
        assert_eq!(path_line(folder, Path::new("/other/c.mp3")).unwrap(), "/other/c.mp3");
    }

    #[test]
    fn playlist_files_list_the_files_that_exist_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let folder = tmp.path().join("albums");
        std::fs::create_dir_all(folder.join("b")).unwrap();
        std::fs::write(folder.join("b/one.flac"), b"x").unwrap();
        std::fs::write(folder.join("two.mp3"), b"x").unwrap();
        let absolute = folder.join("two.mp3");
        let playlist = folder.join("list.m3u8");
        let text = format!(
            "\u{feff}#EXTM3U\r\n#EXTINF:1,A - B\r\nb/one.flac\r\nhttps://radio.example/x\r\nmissing.ogg\r\n{}\r\n",
            absolute.display()
        );
        std::fs::write(&playlist, text).unwrap();
        assert_eq!(m3u_file_paths(&playlist).unwrap(), vec![folder.join("b/one.flac"), absolute]);
        assert!(m3u_file_paths(&tmp.path().join("none.m3u")).is_err());
    }
}
