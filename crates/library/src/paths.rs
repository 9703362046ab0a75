//! Paths are stored as their exact bytes so names that are not valid UTF-8 survive the round
//! trip through the database.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

#[cfg(unix)]
pub fn to_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

#[cfg(unix)]
pub fn from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(OsStr::from_bytes(bytes))
}

// Windows paths are UTF-16 and may hold unpaired surrogates; WTF-8 keeps them intact.
#[cfg(not(unix))]
pub fn to_bytes(path: &Path) -> Vec<u8> {
    path.as_os_str().as_encoded_bytes().to_vec()
}

#[cfg(not(unix))]
pub fn from_bytes(bytes: &[u8]) -> PathBuf {
    // The bytes came from `as_encoded_bytes` of a path on this platform (`to_bytes`), which is
    // the one case `from_encoded_bytes_unchecked` is sound for; but keep safe code: lossless
    // for every path that is valid Unicode, lossy only for unpaired surrogates.
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// The byte range `[low, high)` holding every path strictly below `dir`.
pub fn descendant_range(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let mut low = to_bytes(dir);
    while low.len() > 1 && low.last() == Some(&(std::path::MAIN_SEPARATOR as u8)) {
        low.pop();
    }
    let mut high = low.clone();
    low.push(std::path::MAIN_SEPARATOR as u8);
    high.push(std::path::MAIN_SEPARATOR as u8 + 1);
    (low, high)
}

pub fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

pub fn is_hidden(name: &OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

/// Names of the image files that stand for a whole folder's cover, in order of preference.
pub const FOLDER_COVER_NAMES: &[&str] = &[
    "cover.jpg",
    "cover.jpeg",
    "cover.png",
    "folder.jpg",
    "folder.jpeg",
    "folder.png",
    "front.jpg",
    "front.png",
];

pub fn folder_cover_rank(name: &OsStr) -> Option<usize> {
    let name = name.to_str()?;
    FOLDER_COVER_NAMES.iter().position(|known| known.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descendant_range_holds_children_only() {
        let (low, high) = descendant_range(Path::new("/music/a"));
        let inside = to_bytes(Path::new("/music/a/b.mp3"));
        let sibling = to_bytes(Path::new("/music/ab.mp3"));
        assert!(low <= inside && inside < high);
        assert!(!(low <= sibling && sibling < high));
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_names_round_trip() {
        let path = from_bytes(b"/music/caf\xe9.mp3");
        assert_eq!(to_bytes(&path), b"/music/caf\xe9.mp3");
        assert!(loft_media::is_playable(&path));
    }
}
