//! What Loft knows about media files, in one place for the library scan, uploads, the locker's
//! inbox, streaming and the desktop shell's file dialogs:
//!
//! - [`Format`] and [`FORMATS`]: the one table of formats, with what the engine can play;
//! - [`Walk`]: the one folder walker (symbolic links followed, each folder listed once);
//! - [`read_tags`]: the one tag reader, over any `Read + Seek`;
//! - [`MediaStream`] and [`MediaOpener`]: where the engine reads encoded audio from.
//!
//! It depends on no audio output or decoder, so the storage crate can use it without them.

mod error;
mod format;
mod stream;
mod tags;
mod walk;

pub use error::MediaError;
pub use format::{FORMATS, Format, extension_of, is_playable, playable_extensions};
pub use stream::{MediaOpener, MediaStream};
pub use tags::{MediaFile, MediaTags, ReadOptions, read_tags};
pub use walk::{Walk, WalkItem, WalkedFile, WalkedFolder};
