//! MPRIS 2 on the session bus as `org.mpris.MediaPlayer2.loft`: what the desktop's media
//! widget, the media keys (through the desktop) and `playerctl` talk to. The properties are
//! read from the shared [`NowPlaying`] through the pure mappings below; the methods become
//! [`Action`]s on the player the window drives.

use std::sync::Arc;

use mpris_server::zbus::{self, fdo};
use mpris_server::{
    LoopStatus, Metadata, PlaybackRate, PlaybackStatus, PlayerInterface, Property, RootInterface, Server,
    Signal, Time, TrackId, Volume,
};
use tauri::{AppHandle, Manager};

use super::actions::{Action, perform_async};
use super::now_playing::{Change, NowPlaying, PlayState, Repeat, TrackInfo};
use super::{Control, MediaState};
use loft_core::player::RepeatMode;

/// The bus name's last part: `org.mpris.MediaPlayer2.loft`.
const BUS_NAME_SUFFIX: &str = "loft";
/// Where the track ids live; the queue index makes each play of a track its own id.
const TRACK_PATH_PREFIX: &str = "/app/loft/player/queue/";

pub fn playback_status(state: PlayState) -> PlaybackStatus {
    match state {
        PlayState::Playing => PlaybackStatus::Playing,
        PlayState::Paused => PlaybackStatus::Paused,
        PlayState::Stopped => PlaybackStatus::Stopped,
    }
}

pub fn loop_status(repeat: Repeat) -> LoopStatus {
    match repeat {
        Repeat::Off => LoopStatus::None,
        Repeat::One => LoopStatus::Track,
        Repeat::All => LoopStatus::Playlist,
    }
}

pub fn repeat_mode(status: LoopStatus) -> RepeatMode {
    match status {
        LoopStatus::None => RepeatMode::Off,
        LoopStatus::Track => RepeatMode::One,
        LoopStatus::Playlist => RepeatMode::All,
    }
}

/// The object path naming the track at queue place `index`.
pub fn track_id(index: usize) -> TrackId {
    TrackId::try_from(format!("{TRACK_PATH_PREFIX}{index}")).unwrap_or(TrackId::NO_TRACK)
}

/// Seconds as MPRIS time (microseconds), saturating on what cannot be a time.
pub fn time_of(secs: f64) -> Time {
    if secs.is_finite() && secs > 0.0 {
        Time::from_micros((secs * 1e6).min(i64::MAX as f64) as i64)
    } else {
        Time::ZERO
    }
}

pub fn metadata(track: Option<&TrackInfo>) -> Metadata {
    let Some(track) = track else {
        let mut empty = Metadata::new();
        empty.set_trackid(Some(TrackId::NO_TRACK));
        return empty;
    };
    let mut builder = Metadata::builder().trackid(track_id(track.index)).title(track.title.clone());
    if !track.artists.is_empty() {
        builder = builder.artist(track.artists.clone());
    }
    if !track.album.is_empty() {
        builder = builder.album(track.album.clone());
    }
    if let Some(length) = track.length_secs {
        builder = builder.length(time_of(length));
    }
    if let Some(art) = track.art_path.as_deref().and_then(super::file_url) {
        builder = builder.art_url(art);
    }
    if let Some(url) = track.file.as_deref().and_then(super::file_url) {
        builder = builder.url(url);
    }
    builder.build()
}

/// The properties an event changed, as MPRIS reports them.
pub fn changed_properties(now: &NowPlaying, change: &Change) -> Vec<Property> {
    let controls = || {
        vec![
            Property::CanGoNext(now.can_go_next()),
            Property::CanGoPrevious(now.can_go_previous()),
            Property::CanPlay(now.track.is_some() || now.queue_len > 0),
            Property::CanSeek(now.track.is_some()),
        ]
    };
    match change {
        Change::State => {
            let mut properties = vec![Property::PlaybackStatus(playback_status(now.state))];
            properties.extend(controls());
            properties
        }
        Change::Track(_) => {
            let mut properties = vec![Property::Metadata(metadata(now.track.as_ref()))];
            properties.extend(controls());
            properties
        }
        Change::Queue => {
            let mut properties =
                vec![Property::Shuffle(now.shuffle), Property::LoopStatus(loop_status(now.repeat))];
            properties.extend(controls());
            properties
        }
        Change::Volume => vec![Property::Volume(now.volume)],
        Change::Seeked(_) => Vec::new(),
    }
}

/// The D-Bus side: answers calls with the shared state and turns methods into actions.
struct Interface {
    app: AppHandle,
}

impl Interface {
    fn now(&self) -> NowPlaying {
        self.app.state::<Arc<MediaState>>().snapshot()
    }

    async fn act(&self, action: Action) -> fdo::Result<()> {
        perform_async(&self.app, action).await.map_err(|error| fdo::Error::Failed(error.to_string()))
    }
}

impl RootInterface for Interface {
    async fn raise(&self) -> fdo::Result<()> {
        crate::opening::show_main_window(&self.app);
        Ok(())
    }

    async fn quit(&self) -> fdo::Result<()> {
        self.app.exit(0);
        Ok(())
    }

    async fn can_quit(&self) -> fdo::Result<bool> {
        Ok(true)
    }

    async fn fullscreen(&self) -> fdo::Result<bool> {
        Ok(false)
    }

    async fn set_fullscreen(&self, _fullscreen: bool) -> zbus::Result<()> {
        Err(zbus::Error::Unsupported)
    }

    async fn can_set_fullscreen(&self) -> fdo::Result<bool> {
        Ok(false)
    }

    async fn can_raise(&self) -> fdo::Result<bool> {
        Ok(true)
    }

    async fn has_track_list(&self) -> fdo::Result<bool> {
        Ok(false)
    }

    async fn identity(&self) -> fdo::Result<String> {
        Ok("Loft".to_owned())
    }

    async fn desktop_entry(&self) -> fdo::Result<String> {
        // The .deb's desktop file is named after the binary.
        Ok("loft-desktop".to_owned())
    }

    async fn supported_uri_schemes(&self) -> fdo::Result<Vec<String>> {
        Ok(vec!["file".to_owned()])
    }

    async fn supported_mime_types(&self) -> fdo::Result<Vec<String>> {
        Ok(crate::file_types::audio_mime_types().into_iter().map(str::to_owned).collect())
    }
}

impl PlayerInterface for Interface {
    async fn next(&self) -> fdo::Result<()> {
        self.act(Action::Next).await
    }

    async fn previous(&self) -> fdo::Result<()> {
        self.act(Action::Previous).await
    }

    async fn pause(&self) -> fdo::Result<()> {
        self.act(Action::Pause).await
    }

    async fn play_pause(&self) -> fdo::Result<()> {
        self.act(Action::PlayPause).await
    }

    async fn stop(&self) -> fdo::Result<()> {
        self.act(Action::Stop).await
    }

    async fn play(&self) -> fdo::Result<()> {
        self.act(Action::Play).await
    }

    async fn seek(&self, offset: Time) -> fdo::Result<()> {
        let now = self.now();
        let Some(track) = now.track else { return Ok(()) };
        let target = now.position_secs + offset.as_micros() as f64 / 1e6;
        // Past the end is the next track, as the specification asks.
        if track.length_secs.is_some_and(|length| target >= length) {
            return self.act(Action::Next).await;
        }
        self.act(Action::SeekTo(target.max(0.0))).await
    }

    async fn set_position(&self, track_id: TrackId, position: Time) -> fdo::Result<()> {
        let now = self.now();
        let Some(track) = now.track else { return Ok(()) };
        let secs = position.as_micros() as f64 / 1e6;
        // A stale track id, or a position outside the track, is ignored (the specification).
        if track_id != self::track_id(track.index)
            || secs < 0.0
            || track.length_secs.is_some_and(|l| secs > l)
        {
            return Ok(());
        }
        self.act(Action::SeekTo(secs)).await
    }

    async fn open_uri(&self, _uri: String) -> fdo::Result<()> {
        Err(fdo::Error::NotSupported("Loft opens files from its window or its command line".to_owned()))
    }

    async fn playback_status(&self) -> fdo::Result<PlaybackStatus> {
        Ok(playback_status(self.now().state))
    }

    async fn loop_status(&self) -> fdo::Result<LoopStatus> {
        Ok(loop_status(self.now().repeat))
    }

    async fn set_loop_status(&self, loop_status: LoopStatus) -> zbus::Result<()> {
        self.act(Action::SetRepeat(repeat_mode(loop_status))).await.map_err(zbus::Error::from)
    }

    async fn rate(&self) -> fdo::Result<PlaybackRate> {
        Ok(1.0)
    }

    async fn set_rate(&self, _rate: PlaybackRate) -> zbus::Result<()> {
        Ok(())
    }

    async fn shuffle(&self) -> fdo::Result<bool> {
        Ok(self.now().shuffle)
    }

    async fn set_shuffle(&self, shuffle: bool) -> zbus::Result<()> {
        self.act(Action::SetShuffle(shuffle)).await.map_err(zbus::Error::from)
    }

    async fn metadata(&self) -> fdo::Result<Metadata> {
        Ok(metadata(self.now().track.as_ref()))
    }

    async fn volume(&self) -> fdo::Result<Volume> {
        Ok(self.now().volume)
    }

    async fn set_volume(&self, volume: Volume) -> zbus::Result<()> {
        let volume = if volume.is_finite() { volume.clamp(0.0, 1.0) } else { return Ok(()) };
        self.act(Action::SetVolume(volume)).await.map_err(zbus::Error::from)
    }

    async fn position(&self) -> fdo::Result<Time> {
        Ok(time_of(self.now().position_secs))
    }

    async fn minimum_rate(&self) -> fdo::Result<PlaybackRate> {
        Ok(1.0)
    }

    async fn maximum_rate(&self) -> fdo::Result<PlaybackRate> {
        Ok(1.0)
    }

    async fn can_go_next(&self) -> fdo::Result<bool> {
        Ok(self.now().can_go_next())
    }

    async fn can_go_previous(&self) -> fdo::Result<bool> {
        Ok(self.now().can_go_previous())
    }

    async fn can_play(&self) -> fdo::Result<bool> {
        let now = self.now();
        Ok(now.track.is_some() || now.queue_len > 0)
    }

    async fn can_pause(&self) -> fdo::Result<bool> {
        Ok(true)
    }

    async fn can_seek(&self) -> fdo::Result<bool> {
        Ok(self.now().track.is_some())
    }

    async fn can_control(&self) -> fdo::Result<bool> {
        Ok(true)
    }
}

/// The server on the session bus, told of each change by the media controls' thread.
pub struct Mpris {
    server: Server<Interface>,
}

impl Mpris {
    pub fn start(app: &AppHandle) -> zbus::Result<Mpris> {
        let interface = Interface { app: app.clone() };
        let server = tauri::async_runtime::block_on(Server::new(BUS_NAME_SUFFIX, interface))?;
        tracing::info!("MPRIS media controls are on the session bus");
        Ok(Mpris { server })
    }
}

impl Control for Mpris {
    fn changed(&mut self, now: &NowPlaying, change: &Change) {
        let properties = changed_properties(now, change);
        let sent = tauri::async_runtime::block_on(async {
            if !properties.is_empty() {
                self.server.properties_changed(properties).await?;
            }
            if let Change::Seeked(position) = change {
                self.server.emit(Signal::Seeked { position: time_of(*position) }).await?;
            }
            zbus::Result::Ok(())
        });
        if let Err(error) = sent {
            tracing::warn!(%error, "cannot tell D-Bus what changed in playback");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media_controls::now_playing::TrackStarted;

    fn playing_track() -> NowPlaying {
        NowPlaying {
            state: PlayState::Playing,
            track: Some(TrackInfo {
                index: 3,
                track_id: 42,
                title: "Hoppípolla".into(),
                artists: vec!["Sigur Rós".into()],
                album: "Takk...".into(),
                length_secs: Some(268.5),
                art_path: Some("/home/me/.cache/loft/art/7.jpg".into()),
                file: Some("/music/Sigur Rós/04 Hoppípolla.flac".into()),
            }),
            position_secs: 12.0,
            queue_len: 4,
            shuffle: false,
            repeat: Repeat::Off,
            volume: 0.5,
        }
    }

    #[test]
    fn states_and_repeat_modes_map_both_ways() {
        assert_eq!(playback_status(PlayState::Playing), PlaybackStatus::Playing);
        assert_eq!(playback_status(PlayState::Paused), PlaybackStatus::Paused);
        assert_eq!(playback_status(PlayState::Stopped), PlaybackStatus::Stopped);
        for (repeat, status, mode) in [
            (Repeat::Off, LoopStatus::None, RepeatMode::Off),
            (Repeat::One, LoopStatus::Track, RepeatMode::One),
            (Repeat::All, LoopStatus::Playlist, RepeatMode::All),
        ] {
            assert_eq!(loop_status(repeat), status);
            assert_eq!(repeat_mode(status), mode);
        }
    }

    #[test]
    fn metadata_carries_the_tags_length_art_and_a_track_id() {
        let now = playing_track();
        let metadata = metadata(now.track.as_ref());
        assert_eq!(metadata.title(), Some("Hoppípolla"));
        assert_eq!(metadata.artist(), Some(vec!["Sigur Rós".to_owned()]));
        assert_eq!(metadata.album(), Some("Takk..."));
        assert_eq!(metadata.length(), Some(Time::from_micros(268_500_000)));
        assert_eq!(metadata.art_url().as_deref(), Some("file:///home/me/.cache/loft/art/7.jpg"));
        assert_eq!(
            metadata.url().as_deref(),
            Some("file:///music/Sigur%20R%C3%B3s/04%20Hopp%C3%ADpolla.flac")
        );
        assert_eq!(metadata.trackid(), Some(track_id(3)));
        assert_eq!(track_id(3).as_str(), "/app/loft/player/queue/3");

        let nothing = super::metadata(None);
        assert_eq!(nothing.trackid(), Some(TrackId::NO_TRACK));
        assert_eq!(nothing.title(), None);
    }

    #[test]
    fn times_are_microseconds_and_never_negative() {
        assert_eq!(time_of(1.5), Time::from_micros(1_500_000));
        assert_eq!(time_of(-3.0), Time::ZERO);
        assert_eq!(time_of(f64::NAN), Time::ZERO);
        assert_eq!(time_of(f64::INFINITY), Time::ZERO);
    }

    #[test]
    fn each_change_reports_its_properties() {
        let now = playing_track();
        let state = changed_properties(&now, &Change::State);
        assert!(state.contains(&Property::PlaybackStatus(PlaybackStatus::Playing)));
        assert!(state.contains(&Property::CanGoNext(false)), "the last track of an unrepeated queue");
        let started = TrackStarted { index: 3, track_id: 42, name: String::new(), duration_secs: None };
        let track = changed_properties(&now, &Change::Track(started));
        assert!(matches!(&track[0], Property::Metadata(m) if m.title() == Some("Hoppípolla")));
        let queue = changed_properties(&now, &Change::Queue);
        assert!(
            queue.contains(&Property::Shuffle(false))
                && queue.contains(&Property::LoopStatus(LoopStatus::None))
        );
        assert_eq!(changed_properties(&now, &Change::Volume), vec![Property::Volume(0.5)]);
        assert!(changed_properties(&now, &Change::Seeked(3.0)).is_empty());
    }
}
