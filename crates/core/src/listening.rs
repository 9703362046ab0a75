//! Listening state as the service offers it: plays, hearts, ratings, resume positions and rule
//! playlists. Each is applied to the library at once and, with a locker connected, recorded in
//! its catalog (plays and resume positions wait for the next sync; hearts, ratings and rule
//! playlists are written at once when the locker answers, and wait in the outbox when not), so
//! they follow the user to every device.
//!
//! Plays are counted from what the engine reports ([`PlayTracker`]): a play counts once at least
//! half the track, or four minutes of it, was heard (seeks do not count as listening). A track
//! longer than twenty minutes remembers where it was left, and starts there the next time.

use std::sync::Arc;

use loft_library::{SmartPlaylistInfo, SmartRule, Track};

use crate::hub::Hub;
use crate::session::blocking;
use crate::{CoreError, Event, Loft};

/// A play counts once this much of the track was heard…
const COUNT_FRACTION: f64 = 0.5;
/// …or this many seconds, whichever comes first.
const COUNT_AFTER_SECS: f64 = 240.0;
/// Tracks longer than this remember where they were left.
pub(crate) const RESUMABLE_AFTER_SECS: f64 = 20.0 * 60.0;
/// Near either end a track is started afresh rather than resumed.
const RESUME_MARGIN_SECS: f64 = 30.0;
/// A jump in position larger than this between two reports is a seek, not listening.
const LISTENING_STEP_SECS: f64 = 2.0;

impl Loft {
    /// Loves a track (a heart), or takes the heart back.
    pub fn set_loved(&self, track_id: i64, loved: bool) -> Result<Track, CoreError> {
        Ok(self.set_loved_tracks(&[track_id], loved)?.remove(0))
    }

    /// Loves tracks, or takes their hearts back: in the library at once, and in the locker's
    /// catalog as one edit however many tracks (one write of the outbox, one log file), so
    /// hearting an album costs what hearting a song does. Returns the tracks as they are now.
    pub fn set_loved_tracks(&self, track_ids: &[i64], loved: bool) -> Result<Vec<Track>, CoreError> {
        let library = self.library();
        let (keys, failed) = each_until_error(track_ids, |id| library.set_loved(id, loved));
        self.record_listening_edit(|locker| async move {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            locker.set_loved_many(&keys, loved).await
        })?;
        failed.map_or(Ok(()), Err)?;
        self.listening_changed(track_ids)
    }

    /// Rates a track 0 to 5, or clears its rating.
    pub fn set_rating(&self, track_id: i64, rating: Option<u8>) -> Result<Track, CoreError> {
        Ok(self.set_rating_tracks(&[track_id], rating)?.remove(0))
    }

    /// Rates tracks 0 to 5, or clears their ratings, as one edit (see [`Loft::set_loved_tracks`]).
    pub fn set_rating_tracks(&self, track_ids: &[i64], rating: Option<u8>) -> Result<Vec<Track>, CoreError> {
        let library = self.library();
        let (keys, failed) = each_until_error(track_ids, |id| library.set_rating(id, rating));
        self.record_listening_edit(|locker| async move {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            locker.set_rating_many(&keys, rating).await
        })?;
        failed.map_or(Ok(()), Err)?;
        self.listening_changed(track_ids)
    }

    /// Records a heart or rating edit in the connected locker's catalog (the outbox keeps it
    /// until the locker answers) and asks for a sync; nothing without a locker.
    fn record_listening_edit<F, Fut>(&self, edit: F) -> Result<(), CoreError>
    where
        F: FnOnce(loft_locker::Locker) -> Fut,
        Fut: Future<Output = loft_locker::Result<()>>,
    {
        let Some(opened) = self.connected()? else { return Ok(()) };
        self.hub.block_on(async {
            edit(opened.locker.clone()).await?;
            self.hub.emit_pending(&opened.locker).await;
            Ok::<_, CoreError>(())
        })?;
        self.request_locker_sync();
        Ok(())
    }

    /// Counts a play of a track now (the player counts its plays itself; this is for front ends
    /// that play elsewhere).
    pub fn record_play(&self, track_id: i64) -> Result<Track, CoreError> {
        self.hub.block_on(self.hub.record_play(track_id, crate::now_ms()))?;
        Ok(self.listening_changed(&[track_id])?.remove(0))
    }

    /// The tracks played most recently, latest first.
    pub fn history(&self, limit: u64) -> Result<Vec<Track>, CoreError> {
        Ok(self.library().history(limit)?)
    }

    /// The built-in rule playlists and the user's.
    pub fn smart_playlists(&self) -> Result<Vec<SmartPlaylistInfo>, CoreError> {
        Ok(self.library().smart_playlists()?)
    }

    /// The tracks a rule playlist (built-in or the user's) picks now.
    pub fn smart_playlist_tracks(&self, id: &str) -> Result<Vec<Track>, CoreError> {
        let playlist = self.library().smart_playlist(id)?;
        Ok(self.library().smart_tracks(&playlist.rule, crate::now_ms())?)
    }

    /// Makes a rule playlist (in the locker's catalog when one is connected, so every device has
    /// it), or changes one (`id`).
    pub fn save_smart_playlist(
        &self,
        id: Option<&str>,
        name: &str,
        rule: &SmartRule,
    ) -> Result<SmartPlaylistInfo, CoreError> {
        rule.check()?;
        let name = loft_library::clean_playlist_name(name)?;
        let id = match self.connected()? {
            Some(opened) => self.hub.block_on(async {
                let id = opened.locker.put_smart_playlist(id, &name, rule.to_json()).await?;
                self.hub.emit_pending(&opened.locker).await;
                Ok::<_, CoreError>(id)
            })?,
            None => id.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned),
        };
        let saved = self.library().put_smart_playlist(&id, &name, rule)?;
        self.events().emit(Event::PlaylistsChanged { ids: vec![id] });
        Ok(saved)
    }

    pub fn delete_smart_playlist(&self, id: &str) -> Result<(), CoreError> {
        if !self.library().delete_smart_playlist(id)? {
            return Err(loft_library::LibraryError::UnknownPlaylist(id.to_owned()).into());
        }
        if let Some(opened) = self.connected()? {
            let held =
                self.hub.block_on(opened.locker.smart_playlists()).iter().any(|playlist| playlist.id == id);
            if held {
                self.hub.block_on(opened.locker.delete_smart_playlist(id))?;
            }
        }
        self.events().emit(Event::PlaylistsChanged { ids: vec![id.to_owned()] });
        Ok(())
    }

    /// Tells the front ends once that tracks changed, and returns them as they are now.
    fn listening_changed(&self, track_ids: &[i64]) -> Result<Vec<Track>, CoreError> {
        let updated = u64::try_from(track_ids.len()).unwrap_or(u64::MAX);
        self.events().emit(Event::LibraryChanged { added: 0, updated, moved: 0, removed: 0 });
        let library = self.library();
        track_ids
            .iter()
            .map(|&id| library.track(id)?.ok_or_else(|| loft_library::LibraryError::UnknownTrack(id).into()))
            .collect()
    }
}

/// Applies `edit` to each track in turn, stopping at the first that fails: the keys of those
/// done (which the catalog must then hear of too, so the library and the catalog agree) and the
/// error, if one stopped it.
fn each_until_error(
    track_ids: &[i64],
    mut edit: impl FnMut(i64) -> loft_library::Result<String>,
) -> (Vec<String>, Option<CoreError>) {
    let mut keys = Vec::with_capacity(track_ids.len());
    for &id in track_ids {
        match edit(id) {
            Ok(key) => keys.push(key),
            Err(error) => return (keys, Some(error.into())),
        }
    }
    (keys, None)
}

impl Hub {
    /// Counts a play of a library track: in the library at once, in the locker's outbox (for the
    /// next sync) when one is connected.
    pub(crate) async fn record_play(&self, track_id: i64, at_ms: u64) -> Result<(), CoreError> {
        let library = self.library.clone();
        let sha256 = blocking(move || library.record_play(track_id, at_ms)).await?;
        if let Some(url) = self.locker_url() {
            let opened = self.session.locker(&url).await?;
            opened.locker.record_play(&sha256, at_ms).await?;
            self.emit_pending(&opened.locker).await;
        }
        self.events.emit(Event::LibraryChanged { added: 0, updated: 1, moved: 0, removed: 0 });
        Ok(())
    }

    /// Keeps where a long track was left (0: from the start).
    pub(crate) async fn record_resume(&self, track_id: i64, position_ms: u64) -> Result<(), CoreError> {
        let library = self.library.clone();
        let sha256 = blocking(move || library.set_resume(track_id, position_ms)).await?;
        if let Some(url) = self.locker_url() {
            let opened = self.session.locker(&url).await?;
            opened.locker.record_resume(&sha256, position_ms).await?;
        }
        Ok(())
    }
}

/// What a [`PlayTracker`] decided: the player's event handler carries it out off its thread.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Heard {
    /// Count a play of this track.
    Play(i64),
    /// Remember this position (ms) of a long track (0: start afresh next time).
    Resume(i64, u64),
    /// A long track started that was left midway: seek there.
    StartedLong(i64),
}

/// Follows what the engine plays and says when a play counts and where long tracks were left.
/// Pure: fed the engine's events, it returns what to record.
#[derive(Debug, Default)]
pub(crate) struct PlayTracker {
    current: Option<Listened>,
}

#[derive(Debug)]
struct Listened {
    track_id: i64,
    duration_secs: Option<f64>,
    heard_secs: f64,
    position_secs: f64,
    counted: bool,
}

impl Listened {
    fn long(&self) -> bool {
        self.duration_secs.is_some_and(|duration| duration > RESUMABLE_AFTER_SECS)
    }

    /// Where to go on from next time: here, or from the start when near either end.
    fn resume_at(&self) -> Option<(i64, u64)> {
        let duration = self.duration_secs.filter(|_| self.long())?;
        let position = self.position_secs;
        let midway = position > RESUME_MARGIN_SECS && position < duration - RESUME_MARGIN_SECS;
        let at = if midway { (position * 1000.0) as u64 } else { 0 };
        Some((self.track_id, at))
    }
}

impl PlayTracker {
    pub(crate) fn observe(&mut self, event: &loft_audio::EngineEvent) -> Vec<Heard> {
        use loft_audio::{EngineEvent, PlaybackState};
        let mut heard = Vec::new();
        match event {
            EngineEvent::TrackChanged { track_id, duration_secs, .. } => {
                heard.extend(self.finish());
                if *track_id > 0 {
                    let started = Listened {
                        track_id: *track_id,
                        duration_secs: *duration_secs,
                        heard_secs: 0.0,
                        position_secs: 0.0,
                        counted: false,
                    };
                    if started.long() {
                        heard.push(Heard::StartedLong(*track_id));
                    }
                    self.current = Some(started);
                }
            }
            EngineEvent::Position { track_id, position_secs, duration_secs, .. } => {
                if let Some(current) = self.current.as_mut().filter(|current| current.track_id == *track_id) {
                    let step = position_secs - current.position_secs;
                    if step > 0.0 && step <= LISTENING_STEP_SECS {
                        current.heard_secs += step;
                    }
                    current.position_secs = *position_secs;
                    if current.duration_secs.is_none() {
                        current.duration_secs = *duration_secs;
                    }
                    let needed = current.duration_secs.map_or(COUNT_AFTER_SECS, |duration| {
                        (duration * COUNT_FRACTION).min(COUNT_AFTER_SECS)
                    });
                    if !current.counted && current.heard_secs >= needed {
                        current.counted = true;
                        heard.push(Heard::Play(current.track_id));
                    }
                }
            }
            EngineEvent::StateChanged { state: PlaybackState::Paused } => {
                // The app may be closed while paused: keep the place now.
                if let Some((track, at)) = self.current.as_ref().and_then(Listened::resume_at) {
                    heard.push(Heard::Resume(track, at));
                }
            }
            EngineEvent::StateChanged { state: PlaybackState::Stopped } | EngineEvent::QueueEnded => {
                heard.extend(self.finish());
            }
            _ => {}
        }
        heard
    }

    /// The track that was playing ended (another started, or playback stopped).
    fn finish(&mut self) -> Vec<Heard> {
        let Some(ended) = self.current.take() else { return Vec::new() };
        let played_out =
            ended.duration_secs.is_some_and(|duration| ended.position_secs >= duration - RESUME_MARGIN_SECS);
        match ended.resume_at() {
            Some((track, _)) if played_out => vec![Heard::Resume(track, 0)],
            Some((track, at)) => vec![Heard::Resume(track, at)],
            None => Vec::new(),
        }
    }
}

/// Carries out what the tracker decided, on the runtime (the engine's reporting thread must not
/// wait for the database or the locker). `seek` moves the playing track to a position.
pub(crate) fn carry_out(hub: &Arc<Hub>, heard: Vec<Heard>, seek: Arc<dyn Fn(f64) + Send + Sync>) {
    for decision in heard {
        let hub = hub.clone();
        let seek = seek.clone();
        hub.runtime.clone().spawn(async move {
            let outcome = match decision {
                Heard::Play(track) => hub.record_play(track, crate::now_ms()).await,
                Heard::Resume(track, at) => hub.record_resume(track, at).await,
                Heard::StartedLong(track) => {
                    let library = hub.library.clone();
                    match blocking(move || library.track(track)).await {
                        Ok(Some(found)) => {
                            if let Some(at) = found.resume_ms {
                                seek(at as f64 / 1000.0);
                            }
                            Ok(())
                        }
                        Ok(None) => Ok(()),
                        Err(error) => Err(error),
                    }
                }
            };
            if let Err(error) = outcome {
                tracing::warn!(%error, "could not record what was listened to");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loft_audio::{EngineEvent, PlaybackState};

    fn changed(track_id: i64, duration: f64) -> EngineEvent {
        EngineEvent::TrackChanged { index: 0, track_id, name: String::new(), duration_secs: Some(duration) }
    }

    fn at(track_id: i64, position_secs: f64, duration: f64) -> EngineEvent {
        EngineEvent::Position { index: 0, track_id, position_secs, duration_secs: Some(duration) }
    }

    fn play(tracker: &mut PlayTracker, track: i64, duration: f64, from: f64, to: f64) -> Vec<Heard> {
        let mut heard = Vec::new();
        let mut position = from;
        while position <= to {
            heard.extend(tracker.observe(&at(track, position, duration)));
            position += 0.25;
        }
        heard
    }

    #[test]
    fn a_play_counts_at_half_the_track_or_four_minutes_once() {
        let mut tracker = PlayTracker::default();
        assert!(tracker.observe(&changed(1, 100.0)).is_empty());
        assert!(play(&mut tracker, 1, 100.0, 0.0, 49.0).is_empty(), "not yet half");
        assert_eq!(play(&mut tracker, 1, 100.0, 49.25, 99.0), [Heard::Play(1)], "once");
        tracker.observe(&changed(2, 3600.0));
        let long = play(&mut tracker, 2, 3600.0, 0.0, 241.0);
        assert!(long.contains(&Heard::Play(2)), "four minutes of an hour");
    }

    #[test]
    fn seeking_ahead_is_not_listening() {
        let mut tracker = PlayTracker::default();
        tracker.observe(&changed(1, 100.0));
        play(&mut tracker, 1, 100.0, 0.0, 10.0);
        // A seek to near the end, then the end: 20 s heard in all.
        assert!(play(&mut tracker, 1, 100.0, 90.0, 99.75).is_empty());
        assert!(tracker.observe(&EngineEvent::QueueEnded).is_empty());
    }

    #[test]
    fn a_long_track_remembers_where_it_was_left_and_forgets_it_when_played_out() {
        let mut tracker = PlayTracker::default();
        assert_eq!(tracker.observe(&changed(7, 3000.0)), [Heard::StartedLong(7)]);
        play(&mut tracker, 7, 3000.0, 0.0, 120.0);
        assert_eq!(
            tracker.observe(&EngineEvent::StateChanged { state: PlaybackState::Paused }),
            [Heard::Resume(7, 120_000)]
        );
        assert_eq!(tracker.observe(&changed(8, 200.0)), [Heard::Resume(7, 120_000)]);
        tracker.observe(&changed(7, 3000.0));
        play(&mut tracker, 7, 3000.0, 2980.0, 2990.0);
        assert_eq!(tracker.observe(&EngineEvent::QueueEnded), [Heard::Resume(7, 0)]);
        // Short tracks and bare files (no track id) remember nothing.
        tracker.observe(&changed(0, 3000.0));
        assert!(tracker.observe(&EngineEvent::QueueEnded).is_empty());
    }
}
