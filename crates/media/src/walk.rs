//! The folder walker the library scan and uploads share. It follows symbolic links and lists
//! every folder once, however many links lead to it (so a link to a parent is no loop); it
//! skips hidden entries (names starting with `.`) and ignores dangling links; it yields a
//! folder's files, then its subfolders depth first, all in name order, so the same tree always
//! comes out the same; and it reports what it cannot read instead of stopping.

use std::collections::{HashSet, VecDeque};
use std::ffi::OsStr;
use std::fs::Metadata;
use std::path::{Path, PathBuf};

/// One folder's files that passed the walk's name filter, sorted by name.
#[derive(Debug)]
pub struct WalkedFolder {
    pub path: PathBuf,
    pub files: Vec<WalkedFile>,
}

#[derive(Debug)]
pub struct WalkedFile {
    /// The path as walked (through the links that lead to it).
    pub path: PathBuf,
    /// The file's own metadata, a link's target's for a link.
    pub metadata: Metadata,
}

#[derive(Debug)]
pub enum WalkItem {
    Folder(WalkedFolder),
    /// Something that could not be read: a folder (what it holds is unknown, and was not
    /// walked), or an entry whose kind could not be learnt.
    Unreadable {
        path: PathBuf,
        error: std::io::Error,
        folder: bool,
    },
}

/// A walk over one or more folders, as an iterator of what it finds. Roots added after the walk
/// has run dry are walked in turn, and a folder already walked for an earlier root is not
/// walked again.
pub struct Walk {
    /// Folders still to list, the next one last.
    pending: Vec<Pending>,
    ready: VecDeque<WalkItem>,
    visited: HashSet<FolderIdentity>,
    keep: Box<dyn Fn(&OsStr) -> bool + Send>,
}

struct Pending {
    path: PathBuf,
    /// `None` for a root, whose metadata is read when it is reached.
    identity: Option<FolderIdentity>,
}

impl Walk {
    /// A walk listing every file (not hidden) it finds.
    pub fn new() -> Walk {
        Walk {
            pending: Vec::new(),
            ready: VecDeque::new(),
            visited: HashSet::new(),
            keep: Box::new(|_| true),
        }
    }

    /// Lists (and reads the metadata of) only the files whose names `keep` accepts.
    pub fn files_named(mut self, keep: impl Fn(&OsStr) -> bool + Send + 'static) -> Walk {
        self.keep = Box::new(keep);
        self
    }

    /// Adds a folder to walk after those already added. A root that cannot be read is reported;
    /// one that is not a folder yields nothing.
    pub fn add_root(&mut self, root: impl Into<PathBuf>) {
        self.pending.insert(0, Pending { path: root.into(), identity: None });
    }

    fn list(&mut self, dir: PathBuf) {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) => {
                self.ready.push_back(WalkItem::Unreadable { path: dir, error, folder: true });
                return;
            }
        };
        let mut files = Vec::new();
        let mut folders = Vec::new();
        let mut problems = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    // The listing broke off: what else the folder holds is unknown.
                    problems.push(WalkItem::Unreadable { path: dir.clone(), error, folder: true });
                    break;
                }
            };
            let name = entry.file_name();
            if is_hidden(&name) {
                continue;
            }
            let path = entry.path();
            let file_type = match entry.file_type() {
                Ok(file_type) => file_type,
                Err(error) => {
                    problems.push(WalkItem::Unreadable { path, error, folder: false });
                    continue;
                }
            };
            let metadata = if file_type.is_symlink() {
                std::fs::metadata(&path)
            } else if file_type.is_dir() || (file_type.is_file() && (self.keep)(&name)) {
                entry.metadata()
            } else {
                continue;
            };
            match metadata {
                Ok(metadata) if metadata.is_dir() => {
                    let identity = folder_identity(&path, &metadata);
                    if !self.visited.contains(&identity) {
                        folders.push(Pending { path, identity: Some(identity) });
                    }
                }
                Ok(metadata) if metadata.is_file() && (self.keep)(&name) => {
                    files.push(WalkedFile { path, metadata });
                }
                Ok(_) => {}
                // A dangling link, or an entry removed since the listing: nothing is there.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => problems.push(WalkItem::Unreadable { path, error, folder: false }),
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        folders.sort_by(|a, b| b.path.cmp(&a.path));
        self.pending.extend(folders);
        self.ready.push_back(WalkItem::Folder(WalkedFolder { path: dir, files }));
        self.ready.extend(problems);
    }
}

impl Default for Walk {
    fn default() -> Self {
        Walk::new()
    }
}

impl Iterator for Walk {
    type Item = WalkItem;

    fn next(&mut self) -> Option<WalkItem> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            let Pending { path, identity } = self.pending.pop()?;
            let identity = match identity {
                Some(identity) => identity,
                None => match std::fs::metadata(&path) {
                    Ok(metadata) if metadata.is_dir() => folder_identity(&path, &metadata),
                    Ok(_) => continue,
                    Err(error) => return Some(WalkItem::Unreadable { path, error, folder: true }),
                },
            };
            if self.visited.insert(identity) {
                self.list(path);
            }
        }
    }
}

/// Whether a name is hidden by convention (starts with a dot).
pub(crate) fn is_hidden(name: &OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

#[cfg(unix)]
type FolderIdentity = (u64, u64);

#[cfg(unix)]
fn folder_identity(_path: &Path, metadata: &Metadata) -> FolderIdentity {
    use std::os::unix::fs::MetadataExt;
    (metadata.dev(), metadata.ino())
}

#[cfg(not(unix))]
type FolderIdentity = PathBuf;

#[cfg(not(unix))]
fn folder_identity(path: &Path, _metadata: &Metadata) -> FolderIdentity {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"x").unwrap();
    }

    /// Every file the walk lists, relative to `root`, in order; and the problems' paths.
    fn walk(root: &Path, walk: Walk) -> (Vec<String>, Vec<String>) {
        let mut walk = walk;
        walk.add_root(root);
        let relative = |path: &Path| path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let (mut files, mut problems) = (Vec::new(), Vec::new());
        for item in walk {
            match item {
                WalkItem::Folder(folder) => files.extend(folder.files.iter().map(|f| relative(&f.path))),
                WalkItem::Unreadable { path, .. } => problems.push(relative(&path)),
            }
        }
        (files, problems)
    }

    #[test]
    fn lists_depth_first_in_name_order_without_hidden_entries() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in
            ["b.mp3", "a/2.mp3", "a/1.mp3", "a/z/deep.mp3", "c.mp3", ".hidden/x.mp3", "a/.x.mp3", "notes.txt"]
        {
            touch(&root.join(name));
        }
        let mp3 = |name: &OsStr| Path::new(name).extension() == Some(OsStr::new("mp3"));
        let (files, problems) = walk(root, Walk::new().files_named(mp3));
        // A folder's files come before its subfolders'.
        assert_eq!(files, ["b.mp3", "c.mp3", "a/1.mp3", "a/2.mp3", "a/z/deep.mp3"]);
        assert!(problems.is_empty());
        let (files, _) = walk(root, Walk::new());
        assert!(files.contains(&"notes.txt".to_owned()));
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_and_each_folder_walked_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("music");
        touch(&root.join("album/song.mp3"));
        touch(&dir.path().join("elsewhere/other.mp3"));
        // A link to the parent (a cycle), one to itself, a second way into a folder already
        // walked, a link out of the tree, a linked file and a dangling link.
        std::os::unix::fs::symlink(&root, root.join("album/up")).unwrap();
        std::os::unix::fs::symlink(root.join("loop"), root.join("loop")).unwrap();
        std::os::unix::fs::symlink(root.join("album"), root.join("zz-again")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), root.join("linked")).unwrap();
        std::os::unix::fs::symlink(root.join("album/song.mp3"), root.join("alias.mp3")).unwrap();
        std::os::unix::fs::symlink(root.join("gone.mp3"), root.join("dangling.mp3")).unwrap();
        let (files, problems) = walk(&root, Walk::new());
        assert_eq!(files, ["alias.mp3", "album/song.mp3", "linked/other.mp3"]);
        // The link to itself cannot be resolved: reported, and the walk went on.
        assert_eq!(problems, ["loop"]);
    }

    #[test]
    fn roots_share_what_was_walked() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("a/b/song.mp3"));
        let mut walk = Walk::new();
        walk.add_root(dir.path().join("a"));
        walk.add_root(dir.path().join("a/b"));
        walk.add_root(dir.path().join("a/b/song.mp3"));
        let files: Vec<PathBuf> = walk
            .filter_map(|item| match item {
                WalkItem::Folder(folder) => Some(folder.files),
                WalkItem::Unreadable { .. } => None,
            })
            .flatten()
            .map(|file| file.path)
            .collect();
        assert_eq!(files, [dir.path().join("a/b/song.mp3")]);
    }

    #[test]
    fn a_missing_root_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut walk = Walk::new();
        walk.add_root(dir.path().join("absent"));
        let items: Vec<WalkItem> = walk.collect();
        assert!(matches!(
            items.as_slice(),
            [WalkItem::Unreadable { error, folder: true, .. }] if error.kind() == std::io::ErrorKind::NotFound
        ));
    }

    #[cfg(unix)]
    #[test]
    fn an_unreadable_folder_is_reported_and_the_rest_walked() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("locked/song.mp3"));
        touch(&dir.path().join("open/song.mp3"));
        let locked = dir.path().join("locked");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        let readable = std::fs::read_dir(&locked).is_ok();
        let (files, problems) = walk(dir.path(), Walk::new());
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
        if readable {
            // Running as root: permissions do not stop it, so there is nothing to check.
            assert_eq!(files, ["locked/song.mp3", "open/song.mp3"]);
        } else {
            assert_eq!(files, ["open/song.mp3"]);
            assert_eq!(problems, ["locked"]);
        }
    }
}
