//! Playing tracks that live in the locker, and keeping them for offline use.
//!
//! Playback picks the best copy of a track: the local file, else a complete copy in the
//! offline cache, else a stream from the locker that fills the cache as it plays
//! ([`loft_locker::LockerOpener`]). Each cloud item of a queue warms the next one when it opens,
//! so the join between two cloud tracks stays gapless. Pinned tracks are downloaded whole and
//! never evicted; the cache lives in the profile's cache dir under `audio/`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use loft_audio::QueueItem;
use loft_library::{OfflineCopy, Track, TrackSource};
use loft_locker::{CacheState, CacheSummary, LockerOpener, OfflineCache};
use serde::Serialize;

use crate::{CoreError, Event, Loft};

/// The streaming side of the service: the offline cache, opened on first use.
#[derive(Default)]
pub(crate) struct StreamingService {
    cache: Mutex<Option<OfflineCache>>,
    /// Blobs being downloaded in the background, so a second pin does not start another.
    downloading: Arc<Mutex<HashSet<String>>>,
    /// What was last written to the index's mirror of the cache, so an unchanged cache costs
    /// no write.
    mirrored: Mutex<Option<Vec<OfflineCopy>>>,
}

/// Whether a track can play now, and from where — what the window greys out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct TrackAvailability {
    pub track_id: i64,
    /// "local", "cached" (a complete offline copy), "stream" (from the locker) or "unavailable".
    pub source: &'static str,
    pub available: bool,
    /// The offline cache's copy: none, partial, complete or pinned.
    pub cache: CacheState,
}

/// `loft cache status` and the settings page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct CacheStatus {
    #[serde(flatten)]
    pub summary: CacheSummary,
    /// Whether the locker answered the last request (true when nothing was asked yet).
    pub locker_reachable: bool,
    /// Library tracks with something in the cache.
    pub tracks: Vec<TrackCacheState>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct TrackCacheState {
    pub track_id: i64,
    pub title: String,
    pub cache: CacheState,
}

/// What a pin did, per track.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PinReport {
    /// Downloaded (or already complete) and pinned.
    pub pinned: Vec<i64>,
    /// Local files: nothing to download, they play offline already.
    pub local: Vec<i64>,
    /// Could not be pinned, with the reason (not in the locker, locker unreachable…).
    pub failed: Vec<(i64, String)>,
}

/// The extension the format probe should expect, from the container the library recorded (an
/// extension given instead is understood too).
fn extension_for(format: &str) -> Option<&'static str> {
    loft_media::Format::by_container(format)
        .or_else(|| loft_media::Format::by_extension(format))
        .map(|f| f.extension())
}

impl Loft {
    /// The offline cache, opened on first use with the limit from the settings.
    pub(crate) fn offline_cache(&self) -> Result<OfflineCache, CoreError> {
        let mut slot = self.streaming.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(cache) = slot.as_ref() {
            return Ok(cache.clone());
        }
        let cache =
            OfflineCache::open(&self.profile().cache_dir().join("audio"), self.settings().cache_limit_bytes)?;
        *slot = Some(cache.clone());
        drop(slot);
        self.hub.session.share_cache(&cache);
        Ok(cache)
    }

    /// Copies what the offline cache holds into the index, where track lists read their
    /// badges and the Offline filter. Cheap when nothing changed (the cache's state is in
    /// memory); returns whether anything did, and then tells the front ends.
    pub fn refresh_offline_index(&self) -> Result<bool, CoreError> {
        let cache = self.offline_cache()?;
        let mut copies: Vec<OfflineCopy> = cache
            .states()
            .into_iter()
            .filter_map(|(sha256, state)| match state {
                CacheState::Complete { .. } => Some(OfflineCopy { sha256, pinned: false, complete: true }),
                CacheState::Pinned { complete, .. } => Some(OfflineCopy { sha256, pinned: true, complete }),
                CacheState::None | CacheState::Partial { .. } => None,
            })
            .collect();
        copies.sort();
        copies.retain(|copy| copy.pinned || copy.complete);
        let mut mirrored = self.streaming.mirrored.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if mirrored.as_ref() == Some(&copies) {
            return Ok(false);
        }
        let first = mirrored.is_none();
        // The first look compares with what the index kept from the last run, which usually
        // matches: no write then, so opening a list never waits for a scan's writer.
        if !first || self.library().offline_copies()? != copies {
            self.library().set_offline_copies(&copies)?;
        }
        *mirrored = Some(copies);
        drop(mirrored);
        if !first {
            self.events().emit(Event::CacheChanged { track_ids: Vec::new() });
        }
        Ok(true)
    }

    /// Downloads again what was pinned but not finished when the app last stopped (or the
    /// network went), in the background; each waits out an outage and continues after it.
    pub fn resume_downloads(self: &Arc<Self>) -> Result<usize, CoreError> {
        let cache = self.offline_cache()?;
        let unfinished: HashSet<String> = cache
            .states()
            .into_iter()
            .filter(|(_, state)| matches!(state, CacheState::Pinned { complete: false, .. }))
            .map(|(sha256, _)| sha256)
            .collect();
        if unfinished.is_empty() {
            return Ok(0);
        }
        let track_ids: Vec<i64> = self
            .library()
            .tracks(&loft_library::TrackQuery {
                source: loft_library::SourceFilter::Locker,
                limit: u64::MAX,
                ..Default::default()
            })?
            .into_iter()
            .filter(|track| track.sha256.as_ref().is_some_and(|sha256| unfinished.contains(sha256)))
            .map(|track| track.id)
            .collect();
        let count = track_ids.len();
        if count > 0 {
            tracing::info!(tracks = count, "resuming unfinished downloads");
            self.pin_in_background(track_ids);
        }
        Ok(count)
    }

    fn library_track(&self, track_id: i64) -> Result<Track, CoreError> {
        self.library()
            .track(track_id)?
            .ok_or_else(|| CoreError::InvalidInput(format!("track {track_id} is not in the library")))
    }

    /// A stream opener for a track in the locker, or `None` when it has no locker copy or no
    /// locker is connected.
    fn locker_opener(&self, track: &Track, cache: &OfflineCache) -> Result<Option<LockerOpener>, CoreError> {
        let Some(sha256) = track.sha256.as_deref() else { return Ok(None) };
        if track.source == TrackSource::Local {
            return Ok(None);
        }
        let Some(opened) = self.connected()? else { return Ok(None) };
        Ok(Some(LockerOpener::new(
            opened.locker,
            cache.clone(),
            self.hub.runtime.clone(),
            sha256,
            &track.title,
            extension_for(&track.format),
        )))
    }

    /// Queue items for library tracks, each from its best copy: the local file, a complete
    /// cached copy, then a locker stream. A track with none of them is an error naming it.
    pub(crate) fn playable_items(&self, track_ids: &[i64]) -> Result<Vec<QueueItem>, CoreError> {
        let cache = self.offline_cache()?;
        let mut items = Vec::with_capacity(track_ids.len());
        // Built back to front so each stream can warm the one after it.
        let mut next_stream: Option<Arc<LockerOpener>> = None;
        for &id in track_ids.iter().rev() {
            let item = if let Some(path) = self.library().track_path(id)? {
                next_stream = None;
                QueueItem { track_id: id, ..QueueItem::file(path) }
            } else {
                let track = self.library_track(id)?;
                let cached = track.sha256.as_deref().and_then(|sha256| cache.complete_file(sha256));
                // A complete cached copy plays with no locker at all (offline).
                let stream = if cached.is_some() { None } else { self.locker_opener(&track, &cache)? };
                match (cached, stream) {
                    (Some(path), _) => {
                        if let Some(sha256) = track.sha256.as_deref() {
                            cache.touch(sha256);
                        }
                        next_stream = None;
                        QueueItem { track_id: id, ..QueueItem::file(path) }
                    }
                    (None, Some(opener)) => {
                        let opener = match next_stream.take() {
                            Some(next) => opener.with_next(next),
                            None => opener,
                        };
                        let opener = Arc::new(opener);
                        next_stream = Some(opener.clone());
                        QueueItem { track_id: id, opener }
                    }
                    (None, None) => {
                        return Err(CoreError::InvalidInput(format!(
                            "track {id} ({}) has no local copy, no cached copy and no locker to stream it from",
                            track.title
                        )));
                    }
                }
            };
            items.push(item);
        }
        items.reverse();
        Ok(items)
    }

    /// Where each track would play from now. A track only in the locker is unavailable while
    /// the locker cannot be reached, unless the cache holds all of it.
    pub fn track_availability(&self, track_ids: &[i64]) -> Result<Vec<TrackAvailability>, CoreError> {
        let cache = self.offline_cache()?;
        // Opening the locker is the first reachability probe; a failure means offline, not an
        // error. After that the background loop's syncs and the streams keep the flag current.
        let reachable = self.connected().ok().flatten().is_some() && self.locker_reachable();
        track_ids
            .iter()
            .map(|&id| {
                let track = self.library_track(id)?;
                let state = track.sha256.as_deref().map_or(CacheState::None, |sha256| cache.state(sha256));
                let complete =
                    matches!(state, CacheState::Complete { .. } | CacheState::Pinned { complete: true, .. });
                let local = self.library().track_path(id)?.is_some_and(|path| path.is_file());
                let source = if local {
                    "local"
                } else if complete {
                    "cached"
                } else if reachable && track.sha256.is_some() && track.source != TrackSource::Local {
                    "stream"
                } else {
                    "unavailable"
                };
                Ok(TrackAvailability {
                    track_id: id,
                    source,
                    available: source != "unavailable",
                    cache: state,
                })
            })
            .collect()
    }

    /// Pins tracks for offline use and downloads them, blocking until each is complete (or
    /// has failed: a locker that stays unreachable gives up after a few tries). Progress goes
    /// out as [`Event::DownloadProgress`].
    pub fn pin(&self, track_ids: &[i64]) -> Result<PinReport, CoreError> {
        self.pin_with(track_ids, Some(8))
    }

    /// Pins tracks and downloads them on a background thread, which waits out network
    /// outages and continues when the locker is back. Returns at once.
    pub fn pin_in_background(self: &Arc<Self>, track_ids: Vec<i64>) {
        let loft = self.clone();
        let spawned = std::thread::Builder::new().name("loft-pin".into()).spawn(move || {
            if let Err(error) = loft.pin_with(&track_ids, None) {
                tracing::warn!(%error, "pinning in the background failed");
            }
        });
        if let Err(error) = spawned {
            tracing::warn!(%error, "could not start the download thread");
        }
    }

    fn pin_with(&self, track_ids: &[i64], give_up_after: Option<u32>) -> Result<PinReport, CoreError> {
        let cache = self.offline_cache()?;
        let mut report = PinReport::default();
        for &id in track_ids {
            let track = self.library_track(id)?;
            if self.library().track_path(id)?.is_some() {
                report.local.push(id);
                continue;
            }
            let opener = match self.locker_opener(&track, &cache) {
                Ok(Some(opener)) => opener,
                Ok(None) => {
                    report.failed.push((id, format!("track {id} has no copy in a connected locker")));
                    continue;
                }
                Err(error) => {
                    report.failed.push((id, error.to_string()));
                    continue;
                }
            };
            let sha256 = opener.sha256().to_owned();
            let claimed =
                self.streaming.downloading.lock().unwrap_or_else(|p| p.into_inner()).insert(sha256.clone());
            let events = self.events().clone();
            let progress: Arc<loft_locker::DownloadProgress> = Arc::new(move |bytes, size| {
                events.emit(Event::DownloadProgress { track_id: id, bytes, size });
            });
            let result = opener.pin(Some(progress), give_up_after);
            if claimed {
                self.streaming.downloading.lock().unwrap_or_else(|p| p.into_inner()).remove(&sha256);
            }
            match result {
                Ok(()) => report.pinned.push(id),
                Err(error) => report.failed.push((id, error.to_string())),
            }
            self.refresh_offline_index()?;
            self.events().emit(Event::CacheChanged { track_ids: vec![id] });
        }
        Ok(report)
    }

    /// Unpins tracks: they stay cached until evicted like anything played.
    pub fn unpin(&self, track_ids: &[i64]) -> Result<(), CoreError> {
        let cache = self.offline_cache()?;
        for &id in track_ids {
            if let Some(sha256) = self.library_track(id)?.sha256 {
                cache.unpin(&sha256)?;
            }
        }
        self.refresh_offline_index()?;
        self.events().emit(Event::CacheChanged { track_ids: track_ids.to_vec() });
        Ok(())
    }

    pub fn cache_status(&self) -> Result<CacheStatus, CoreError> {
        let cache = self.offline_cache()?;
        let mut tracks = Vec::new();
        for track in self.library().tracks(&Default::default())? {
            let Some(sha256) = track.sha256.as_deref() else { continue };
            let state = cache.state(sha256);
            if state != CacheState::None {
                tracks.push(TrackCacheState { track_id: track.id, title: track.title.clone(), cache: state });
            }
        }
        Ok(CacheStatus { summary: cache.summary(), locker_reachable: self.locker_reachable(), tracks })
    }

    /// Empties the cache of everything not pinned and not playing; returns the bytes freed.
    pub fn clear_cache(&self) -> Result<u64, CoreError> {
        let freed = self.offline_cache()?.clear();
        self.refresh_offline_index()?;
        self.events().emit(Event::CacheChanged { track_ids: Vec::new() });
        Ok(freed)
    }

    /// Changes the cache's cap (a setting) and evicts what no longer fits.
    pub fn set_cache_limit(&self, bytes: u64) -> Result<(), CoreError> {
        self.update_settings(|settings| settings.cache_limit_bytes = bytes)?;
        self.offline_cache()?.set_limit(bytes);
        self.refresh_offline_index()?;
        self.events().emit(Event::CacheChanged { track_ids: Vec::new() });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_map_to_probe_extensions() {
        assert_eq!(extension_for("mpeg"), Some("mp3"));
        assert_eq!(extension_for("mp4"), Some("m4a"));
        assert_eq!(extension_for("vorbis"), Some("ogg"));
        assert_eq!(extension_for("aac"), Some("aac"));
        assert_eq!(extension_for("tracker-module"), None);
    }

    #[test]
    fn the_cache_limit_is_a_setting_and_status_starts_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let loft = Loft::open(tmp.path()).unwrap();
        loft.set_cache_limit(10 * 1024 * 1024).unwrap();
        let status = loft.cache_status().unwrap();
        assert_eq!(status.summary.limit_bytes, 10 * 1024 * 1024);
        assert_eq!(status.summary.used_bytes, 0);
        assert!(status.tracks.is_empty());
        assert_eq!(Loft::open(tmp.path()).unwrap().settings().cache_limit_bytes, 10 * 1024 * 1024);
        assert_eq!(loft.clear_cache().unwrap(), 0);
    }

    #[test]
    fn unknown_tracks_are_refused_by_id() {
        let tmp = tempfile::tempdir().unwrap();
        let loft = Loft::open(tmp.path()).unwrap();
        let error = loft.track_availability(&[9]).unwrap_err();
        assert!(error.to_string().contains("track 9"), "{error}");
        assert!(loft.pin(&[9]).is_err());
    }
}
