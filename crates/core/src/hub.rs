//! What the service's background work shares: the owner of the open locker, the library's
//! index, the event sink and the runtime. Parts of the service (sync, uploads, playlists,
//! listening, streaming) take an `Arc<Hub>`; none of them owns the locker.

use std::future::Future;

use loft_library::Library;

use crate::session::Session;
use crate::{Profile, SharedSink};

pub(crate) struct Hub {
    pub session: Session,
    pub library: Library,
    pub events: SharedSink,
    pub profile: Profile,
    pub runtime: tokio::runtime::Handle,
    /// The connected locker's URL, as the settings say (kept here for the parts of the service
    /// that work without the settings: the player counting plays).
    pub locker_url: std::sync::Mutex<Option<String>>,
}

impl Hub {
    pub fn locker_url(&self) -> Option<String> {
        self.locker_url.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Waits for `future` on the service's runtime: for the front ends' blocking calls only.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        crate::session::block_on(&self.runtime, future)
    }
}
