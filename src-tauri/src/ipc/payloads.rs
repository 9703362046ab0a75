//! One representative call of every command and one of every event, built from the Rust
//! types that cross the IPC boundary. The contract tests check each against the command's
//! declared signature, round-trip every argument through JSON, and write them all to
//! `ui/src/lib/bindings.payloads.ts`, where the TypeScript compiler checks every payload
//! against the generated types and a UI test sends each through the generated bindings.

use std::fmt::Debug;
use std::path::PathBuf;

use loft_core::library_types::{
    Album, AlbumKey, Artist, Folder, LockerApplied, M3u8Export, MusicBrainzIds, NotExported, OfflineState,
    Page, Playlist, PlaylistEntry, ReplayGain, ScanError, ScanReport, SortField, SourceFilter, Track,
    TrackQuery, TrackSource, Unmatched,
};
use loft_core::library_types::{Condition, Match, RuleField, RuleOp, RuleSort, SmartPlaylistInfo, SmartRule};
use loft_core::locker_types::{
    BackendQuota, CacheState, CacheSummary, ConnectionCheck, DeviceInfo as LockerDevice, EncryptReport,
    EncryptionState, LockerStatus,
};
use loft_core::locker_types::{CheckReport, Finding, FindingKind};
use loft_core::player::DeviceInfo;
use loft_core::player::audio::{AudioErrorKind, PlaybackState, RepeatMode as Repeat};
use loft_core::{
    AppInfo, CacheStatus, ErrorKind, ErrorPayload, Event, M3u8ImportReport, PlaybackStatus, ReplayGainMode,
    SearchResults, Settings, SyncSummary, TrackAvailability, TrackCacheState, UploadItem, UploadState,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use specta::Type;
use specta::datatype::DataType;

use crate::commands::locker::{GivenCredentials, GivenKeying, GivenSecret};

pub struct Arg {
    /// As the Rust function names it.
    pub name: &'static str,
    pub json: Value,
    pub datatype: DataType,
}

pub struct CommandPayload {
    pub command: &'static str,
    pub args: Vec<Arg>,
    /// What the window receives when the call succeeds.
    pub result: Value,
    /// The type the command is declared to return (`Result<T, ErrorPayload>` for most).
    pub result_type: DataType,
}

pub struct Payloads {
    types: specta::Types,
    pub commands: Vec<CommandPayload>,
    pub events: Vec<Event>,
    pub error: ErrorPayload,
}

pub struct Call<'a> {
    payloads: &'a mut Payloads,
    command: &'static str,
    args: Vec<Arg>,
}

impl Call<'_> {
    /// An argument as the window sends it. It must come back from JSON unchanged, or the
    /// command would receive something other than what the window meant.
    fn arg<T>(mut self, name: &'static str, value: T) -> Self
    where
        T: Serialize + DeserializeOwned + PartialEq + Debug + Type,
    {
        let json = serde_json::to_value(&value).expect("serialize an argument");
        let back: T = serde_json::from_value(json.clone())
            .unwrap_or_else(|error| panic!("{}({name}): {json} does not deserialize: {error}", self.command));
        assert_eq!(back, value, "{}({name}) changes in a JSON round trip", self.command);
        let datatype = T::definition(&mut self.payloads.types);
        self.args.push(Arg { name, json, datatype });
        self
    }

    /// The result of a command that cannot fail.
    fn returns<T: Serialize + Type>(self, value: T) {
        let result_type = T::definition(&mut self.payloads.types);
        self.finish(serde_json::to_value(&value).expect("serialize a result"), result_type);
    }

    /// The success value of a command returning `CommandResult<T>`: Tauri sends the value
    /// itself, and a failure as the rejected `ErrorPayload`.
    fn ok<T: Serialize + Type>(self, value: T) {
        let result_type = <Result<T, ErrorPayload> as Type>::definition(&mut self.payloads.types);
        self.finish(serde_json::to_value(&value).expect("serialize a result"), result_type);
    }

    fn finish(self, result: Value, result_type: DataType) {
        self.payloads.commands.push(CommandPayload {
            command: self.command,
            args: self.args,
            result,
            result_type,
        });
    }
}

impl Payloads {
    fn call(&mut self, command: &'static str) -> Call<'_> {
        Call { payloads: self, command, args: Vec::new() }
    }
}

/// `types` is the registry the bindings were built with, so type references compare equal.
pub fn examples(types: specta::Types) -> Payloads {
    let mut p = Payloads {
        types,
        commands: Vec::new(),
        events: events(),
        error: ErrorPayload { kind: ErrorKind::NotFound, message: "There is no playlist p9.".into() },
    };

    p.call("app_info").returns(AppInfo {
        version: "0.1.0".into(),
        data_dir: "/home/ada/.local/share/app.loft.player".into(),
        database: "/home/ada/.local/share/app.loft.player/library.db".into(),
        logs_dir: "/home/ada/.local/share/app.loft.player/logs".into(),
    });
    p.call("get_settings").returns(settings());
    p.call("set_volume").arg("volume", 0.5f32).ok(settings());
    p.call("set_replaygain").arg("mode", ReplayGainMode::Album).ok(settings());
    p.call("set_keep_playing_when_closed").arg("on", false).ok(settings());
    p.call("set_notify_on_track_change").arg("on", true).ok(settings());
    p.call("set_open_adds_folders").arg("on", true).ok(settings());
    p.call("show_mini_player").ok(());
    p.call("show_full_player").ok(());
    p.call("set_mini_player_on_top").arg("on", true).ok(settings());
    p.call("set_last_view").arg("view", "playlists/01HZX3".to_owned()).ok(settings());
    p.call("set_output_device").arg("name", Some("pulse".to_owned())).ok(settings());
    p.call("output_devices").ok(vec![DeviceInfo {
        name: "pulse".into(),
        description: "PulseAudio Sound Server".into(),
        is_default: true,
    }]);

    p.call("library_folders").ok(vec![folder()]);
    p.call("add_library_folder").arg("path", PathBuf::from("/home/ada/Music")).ok(folder());
    p.call("remove_library_folder").arg("path", PathBuf::from("/home/ada/Music")).ok(12u64);
    p.call("pick_folder").ok(Some(PathBuf::from("/home/ada/Music")));
    p.call("scan_library").ok(ScanReport {
        files_seen: 14,
        added: 12,
        updated: 1,
        moved: 0,
        removed: 0,
        unchanged: 1,
        errors: vec![ScanError {
            path: "/home/ada/Music/broken.mp3".into(),
            reason: "no audio frames".into(),
        }],
        seconds: 0.25,
    });
    p.call("tracks")
        .arg(
            "query",
            TrackQuery {
                sort: SortField::AlbumArtist,
                descending: true,
                offset: 200,
                limit: 100,
                source: SourceFilter::Locker,
            },
        )
        .ok(vec![track(), locker_track()]);
    p.call("track_count").arg("source", Some(SourceFilter::Offline)).ok(2u64);
    p.call("search").arg("text", "sigur".to_owned()).arg("limit", 200u64).ok(SearchResults {
        tracks: vec![track()],
        albums: vec![album()],
        artists: vec![Artist { name: "Sigur Rós".into(), track_count: 9, album_count: 1 }],
    });
    p.call("albums").arg("page", Page { offset: 0, limit: 500 }).ok(vec![album()]);
    p.call("album_tracks")
        .arg("key", AlbumKey { album_artist: "Sigur Rós".into(), album: "Takk...".into() })
        .ok(vec![track()]);
    p.call("artists").arg("page", Page { offset: 500, limit: 500 }).ok(vec![Artist {
        name: "Sigur Rós".into(),
        track_count: 9,
        album_count: 1,
    }]);
    p.call("artist_tracks").arg("artist", "Sigur Rós".to_owned()).ok(vec![track()]);
    p.call("show_in_folder").arg("track_id", 7i64).ok(());

    p.call("player_status").returns(PlaybackStatus {
        state: PlaybackState::Playing,
        index: Some(1),
        track_id: Some(7),
        name: Some("/music/Sigur Rós/Takk/02 Hoppípolla.flac".into()),
        position_secs: 12.5,
        duration_secs: Some(301.2),
        queue: vec![3, 7, 9],
        shuffle: true,
        repeat: Repeat::All,
    });
    p.call("tracks_by_id").arg("ids", vec![7i64, 9]).ok(vec![track(), locker_track()]);
    p.call("playing_file_tags").arg("index", 0usize).ok(Some(loft_core::FileTags {
        title: "Hoppípolla".into(),
        artist: "Sigur Rós".into(),
        album: "Takk...".into(),
        duration_secs: Some(268.0),
    }));
    p.call("play_tracks").arg("ids", vec![7i64, 9]).arg("start", 1usize).ok(());
    p.call("queue_play_next").arg("ids", vec![7i64]).ok(());
    p.call("queue_append").arg("ids", vec![9i64, 3]).ok(());
    p.call("queue_remove").arg("index", 2usize).ok(());
    p.call("queue_move").arg("from", 0usize).arg("to", 2usize).ok(());
    p.call("queue_clear").ok(());
    p.call("toggle_play").ok(());
    p.call("next_track").ok(());
    p.call("previous_track").ok(());
    p.call("seek").arg("position_secs", 42.5f64).ok(());
    p.call("set_shuffle").arg("on", true).ok(());
    p.call("set_repeat").arg("mode", Repeat::One).ok(());

    p.call("playlists").ok(vec![playlist()]);
    p.call("playlist_tracks").arg("id", "p1".to_owned()).ok(vec![
        PlaylistEntry {
            entry_id: "e1".into(),
            position: 0,
            track: Some(track()),
            sha256: Some(SHA256.into()),
            title: "Hoppípolla".into(),
            artist: "Sigur Rós".into(),
            duration_ms: 268_000,
        },
        PlaylistEntry {
            entry_id: "e2".into(),
            position: 1,
            track: None,
            sha256: None,
            title: "Gone".into(),
            artist: "Nobody".into(),
            duration_ms: 180_000,
        },
    ]);
    p.call("create_playlist").arg("name", "Road trip".to_owned()).ok(playlist());
    p.call("rename_playlist").arg("id", "p1".to_owned()).arg("name", "Road trip".to_owned()).ok(playlist());
    p.call("delete_playlist").arg("id", "p1".to_owned()).ok(());
    p.call("playlist_add")
        .arg("id", "p1".to_owned())
        .arg("track_ids", vec![7i64, 9])
        .arg("at", Some(0usize))
        .ok(vec!["e3".to_owned(), "e4".to_owned()]);
    p.call("playlist_remove").arg("id", "p1".to_owned()).arg("entry_ids", vec!["e1".to_owned()]).ok(1u64);
    p.call("playlist_move")
        .arg("id", "p1".to_owned())
        .arg("entry_id", "e2".to_owned())
        .arg("to", 0usize)
        .ok(());
    p.call("import_m3u8").ok(Some(M3u8ImportReport {
        playlist: playlist(),
        added: 2,
        unmatched: vec![Unmatched {
            line: 4,
            entry: "../Music/missing.flac".into(),
            reason: "no library track at this path".into(),
        }],
    }));
    p.call("export_m3u8").arg("id", "p1".to_owned()).arg("name", "Road trip".to_owned()).ok(Some(
        M3u8Export {
            path: "/home/ada/Road trip.m3u8".into(),
            written: 1,
            not_written: vec![NotExported {
                position: 1,
                name: "Sigur Rós - Glósóli".into(),
                reason: "in the locker only, no file on this computer".into(),
            }],
        },
    ));

    p.call("locker_status").ok(Some(locker_status()));
    p.call("connect_locker")
        .arg("url", "s3://music?endpoint=http://127.0.0.1:9000".to_owned())
        .arg(
            "credentials",
            GivenCredentials::S3 { access_key_id: "ada".into(), secret_access_key: "secret".into() },
        )
        .arg("keying", GivenKeying { passphrase: Some("correct horse battery".into()), encrypt: true })
        .ok(locker_status());
    p.call("unlock_locker")
        .arg("secret", GivenSecret::Passphrase { passphrase: "correct horse battery".into() })
        .ok(locker_status());
    p.call("encrypt_locker")
        .arg("passphrase", Some("correct horse battery".to_owned()))
        .arg("without_devices", vec!["old-laptop".to_owned()])
        .ok(EncryptReport {
            recovery_key: Some("H53K-EEZI-XDVF-J5X5-POUI-A42V-HVOQ-OTRF".into()),
            blobs_total: 12,
            blobs_sealed: 12,
            bytes_sealed: 96_000_000,
            catalog_files_sealed: 4,
            damaged: vec![],
            waiting_for: vec!["desktop".into()],
            finished: false,
            plaintext_deleted: 0,
        });
    p.call("change_locker_passphrase")
        .arg(
            "current",
            GivenSecret::RecoveryKey { recovery_key: "H53K-EEZI-XDVF-J5X5-POUI-A42V-HVOQ-OTRF".into() },
        )
        .arg("new_passphrase", "a new passphrase".to_owned())
        .ok(());
    p.call("locker_recovery_key").ok("H53K-EEZI-XDVF-J5X5-POUI-A42V-HVOQ-OTRF".to_owned());
    p.call("forget_locker_key").ok(());
    p.call("test_locker_connection")
        .arg("url", "webdav+https://dav.example.org/music".to_owned())
        .arg("credentials", GivenCredentials::WebDav { user: "ada".into(), password: "secret".into() })
        .ok(ConnectionCheck {
            ok: false,
            step: "credentials",
            message: "The server refused the user name or password.".into(),
            locker_exists: false,
        });
    p.call("disconnect_locker").ok(3u64);
    p.call("set_locker_quota").arg("bytes", 10_000_000_000u64).ok(locker_status());
    p.call("upload_paths")
        .arg("paths", vec![PathBuf::from("/home/ada/Music/a.flac")])
        .ok(vec![upload_item()]);
    p.call("uploads").ok(vec![upload_item(), failed_upload()]);
    p.call("cancel_upload").arg("id", 4u64).ok(upload_item());
    p.call("retry_upload").arg("id", 5u64).ok(failed_upload());
    p.call("clear_finished_uploads").ok(());
    p.call("pick_and_upload").ok(Some(vec![upload_item()]));
    p.call("sync_locker").ok(SyncSummary {
        ops_applied: 3,
        tracks_changed: 2,
        tracks_removed: 1,
        playlists_changed: 1,
        playlists_deleted: 0,
        listening_changed: 4,
        rule_playlists_changed: 1,
        library: LockerApplied { added: 2, updated: 0, removed: 1 },
        merged: 1,
        inbox_imported: 0,
        problems: vec!["catalog/log/laptop/000012.json".into()],
        pending_changes: 0,
    });
    p.call("remove_from_locker").arg("track_id", 9i64).ok(());
    p.call("pin_tracks").arg("track_ids", vec![9i64]).returns(());
    p.call("unpin_tracks").arg("track_ids", vec![9i64]).ok(());
    p.call("cache_status").ok(CacheStatus {
        summary: CacheSummary {
            limit_bytes: 2_147_483_648,
            used_bytes: 9_000_000,
            entries: 2,
            complete: 1,
            pinned: 1,
            pinned_bytes: 5_000_000,
        },
        locker_reachable: true,
        tracks: vec![
            TrackCacheState {
                track_id: 9,
                title: "Glósóli".into(),
                cache: CacheState::Complete { size: 4_000_000 },
            },
            TrackCacheState {
                track_id: 11,
                title: "Sæglópur".into(),
                cache: CacheState::Pinned { bytes: 2_000_000, size: 5_000_000, complete: false },
            },
        ],
    });
    p.call("set_cache_limit").arg("bytes", 1_073_741_824u64).ok(());
    p.call("clear_cache").ok(9_000_000u64);
    p.call("track_availability").arg("track_ids", vec![7i64, 9]).ok(vec![
        TrackAvailability { track_id: 7, source: "local", available: true, cache: CacheState::None },
        TrackAvailability {
            track_id: 9,
            source: "stream",
            available: true,
            cache: CacheState::Partial { bytes: 1_000_000, size: 4_000_000 },
        },
    ]);
    listening_examples(&mut p);

    p
}

fn listening_examples(p: &mut Payloads) {
    p.call("set_loved").arg("track_ids", vec![7i64]).arg("loved", true).ok(vec![track()]);
    p.call("set_rating")
        .arg("track_ids", vec![7i64, 9])
        .arg("rating", Some(4u8))
        .ok(vec![track(), locker_track()]);
    p.call("history").arg("limit", 50u64).ok(vec![track()]);
    p.call("smart_playlists").ok(vec![
        SmartPlaylistInfo {
            id: "builtin-loved".into(),
            name: "Loved".into(),
            rule: SmartRule {
                match_: Match::All,
                conditions: vec![Condition {
                    field: RuleField::Loved,
                    op: RuleOp::Is,
                    value: Value::Bool(true),
                }],
                sort: Some(RuleSort { field: RuleField::Artist, descending: false }),
                limit: None,
            },
            builtin: true,
        },
        smart_playlist(),
    ]);
    p.call("smart_playlist_tracks").arg("id", "builtin-loved".to_owned()).ok(vec![track()]);
    p.call("save_smart_playlist")
        .arg("id", None::<String>)
        .arg("name", "Late jazz".to_owned())
        .arg("rule", smart_playlist().rule)
        .ok(smart_playlist());
    p.call("delete_smart_playlist").arg("id", "5f0c6a2e-3d4b-4c8a-9e1f-2a7b8c9d0e1f".to_owned()).ok(());
    p.call("check_locker").ok(check_report());
    p.call("last_locker_check").ok(Some(check_report()));
}

/// "genre is Jazz and rating >= 4 and last played not in last 90 days sort by plays desc limit 50"
fn smart_playlist() -> SmartPlaylistInfo {
    SmartPlaylistInfo {
        id: "5f0c6a2e-3d4b-4c8a-9e1f-2a7b8c9d0e1f".into(),
        name: "Late jazz".into(),
        rule: SmartRule {
            match_: Match::All,
            conditions: vec![
                Condition { field: RuleField::Genre, op: RuleOp::Is, value: Value::from("Jazz") },
                Condition { field: RuleField::Rating, op: RuleOp::Ge, value: Value::from(4) },
                Condition { field: RuleField::LastPlayed, op: RuleOp::NotInLastDays, value: Value::from(90) },
            ],
            sort: Some(RuleSort { field: RuleField::PlayCount, descending: true }),
            limit: Some(50),
        },
        builtin: false,
    }
}

fn check_report() -> CheckReport {
    CheckReport {
        checked_ms: 1_700_000_950_000,
        blobs_checked: 120,
        parts_checked: 480,
        bytes_read: 3_200_000_000,
        findings: vec![
            Finding {
                kind: FindingKind::DamagedPart,
                id: SHA256.into(),
                detail: "part 3 of Hoppípolla does not match its hash".into(),
                repair:
                    "upload the file (Hoppípolla) again from any device that has it: Loft repairs the blob"
                        .into(),
            },
            Finding {
                kind: FindingKind::UnreferencedParts,
                id: "9b2c0d4e".into(),
                detail: "2 parts no track references".into(),
                repair: "loft locker gc deletes them".into(),
            },
        ],
    }
}

/// One of each event. The contract test checks that every variant has one.
fn events() -> Vec<Event> {
    vec![
        Event::SettingsChanged { settings: settings() },
        Event::UploadProgress {
            files_done: 1,
            files_total: 3,
            bytes_sent: 5_000_000,
            bytes_total: 12_000_000,
            current: Some("/home/ada/Music/a.flac".into()),
        },
        Event::UploadsChanged { items: vec![upload_item(), failed_upload()] },
        Event::UploadFinished { uploaded: 2, duplicates: 1, failed: 0, bytes_sent: 12_000_000 },
        Event::SyncFinished {
            ops_applied: 3,
            tracks_changed: 2,
            tracks_removed: 1,
            playlists_changed: 1,
            playlists_deleted: 0,
            inbox_imported: 0,
            problems: vec![],
        },
        Event::LockerUnreachable { message: "The locker does not answer: connection refused.".into() },
        Event::LockerReachable,
        Event::PlaybackPosition { index: 1, track_id: 7, position_secs: 12.25, duration_secs: Some(301.2) },
        Event::TrackChanged {
            index: 1,
            track_id: 7,
            name: "Sigur Rós - Hoppípolla".into(),
            duration_secs: None,
        },
        Event::PlaybackState { state: PlaybackState::Paused },
        Event::PlaybackError {
            index: Some(2),
            name: "broken.mp3".into(),
            kind: AudioErrorKind::Corrupt,
            message: "The file has no audio the player can decode.".into(),
        },
        Event::QueueEnded,
        Event::QueueChanged { track_ids: vec![3, 7, 9], shuffle: false, repeat: Repeat::One },
        Event::ScanProgress { files_seen: 40, files_to_read: 12, files_read: 5 },
        Event::ScanFinished {
            files_seen: 40,
            added: 12,
            updated: 1,
            moved: 0,
            removed: 2,
            errors: 1,
            seconds: 1.5,
        },
        Event::LibraryChanged { added: 1, updated: 0, moved: 0, removed: 0 },
        Event::LibraryWatchFailed { message: "Too many folders to watch.".into() },
        Event::DownloadProgress { track_id: 9, bytes: 1_000_000, size: 4_000_000 },
        Event::CacheChanged { track_ids: vec![9, 11] },
        Event::PlaylistsChanged { ids: vec!["p1".into()] },
        Event::LockerChecked { damaged: false },
        Event::LockerEncryption { converting: true, waiting_for: vec!["desktop".into()] },
        Event::LockerEncryptionProgress { blobs_sealed: 3, blobs_total: 12 },
        Event::PendingChanges { count: 2 },
    ]
}

const SHA256: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn settings() -> Settings {
    Settings { volume: 0.5, output_device: Some("pulse".into()), locker_url: None, ..Settings::default() }
}

fn folder() -> Folder {
    Folder { id: 1, path: "/home/ada/Music".into(), added_at: 1_700_000_000 }
}

fn track() -> Track {
    Track {
        id: 7,
        title: "Hoppípolla".into(),
        artist: "Sigur Rós".into(),
        artists: vec!["Sigur Rós".into()],
        album: "Takk...".into(),
        album_artist: "Sigur Rós".into(),
        track_no: Some(2),
        track_total: Some(11),
        disc_no: Some(1),
        disc_total: None,
        year: Some(2005),
        date: Some("2005-09-12".into()),
        genre: "Post-rock".into(),
        composer: String::new(),
        duration_ms: 268_000,
        sample_rate: Some(44_100),
        channels: Some(2),
        bit_depth: Some(16),
        bitrate_kbps: Some(900),
        replaygain: ReplayGain {
            track_gain_db: Some(-7.5),
            track_peak: Some(0.98),
            album_gain_db: None,
            album_peak: None,
        },
        musicbrainz: MusicBrainzIds {
            recording_id: Some("3b9d0e6b-4b8f-4c5e-9f5a-0d2f7f0c1a11".into()),
            ..MusicBrainzIds::default()
        },
        compilation: false,
        format: "flac".into(),
        cover_id: Some(3),
        play_count: 4,
        last_played_ms: Some(1_700_000_900_000),
        loved: true,
        rating: Some(4),
        resume_ms: None,
        added_at: 1_700_000_100,
        path: Some("/home/ada/Music/Sigur Rós/Takk/02 Hoppípolla.flac".into()),
        sha256: Some(SHA256.into()),
        source: TrackSource::Both,
        offline: OfflineState::None,
    }
}

fn locker_track() -> Track {
    Track {
        id: 9,
        title: "Glósóli".into(),
        track_no: Some(3),
        path: None,
        cover_id: None,
        source: TrackSource::Locker,
        offline: OfflineState::Pinned,
        ..track()
    }
}

fn album() -> Album {
    Album {
        title: "Takk...".into(),
        album_artist: "Sigur Rós".into(),
        key: AlbumKey { album_artist: "Sigur Rós".into(), album: "Takk...".into() },
        year: Some(2005),
        track_count: 11,
        duration_ms: 3_920_000,
        cover_id: None,
    }
}

fn playlist() -> Playlist {
    Playlist {
        id: "p1".into(),
        name: "Road trip".into(),
        created_at: 1_700_000_000,
        updated_at: 1_700_000_500,
        track_count: 2,
        duration_ms: 448_000,
        unavailable_count: 1,
    }
}

fn locker_status() -> LockerStatus {
    LockerStatus {
        url: "s3://music?endpoint=http://127.0.0.1:9000".into(),
        locker_id: "5d0c2f7e-1d8b-4e1c-9a3b-8f4e2c6d7a90".into(),
        device: "laptop".into(),
        usage_bytes: 12_000_000,
        quota_bytes: 10_000_000_000,
        tracks: 3,
        playlists: 1,
        devices: vec![LockerDevice {
            device: "laptop".into(),
            last_sync_ms: 1_700_000_000_000,
            seen: [("laptop".to_owned(), 12u64), ("desktop".to_owned(), 4)].into_iter().collect(),
        }],
        last_sync_ms: Some(1_700_000_000_000),
        backend_quota: Some(BackendQuota { used_bytes: Some(12_000_000), available_bytes: None }),
        pending_changes: 2,
        reached: true,
        encryption: EncryptionState { encrypted: true, unlocked: true, converting: false },
    }
}

fn upload_item() -> UploadItem {
    UploadItem {
        id: 4,
        path: "/home/ada/Music/a.flac".into(),
        size: 4_000_000,
        bytes_sent: 1_000_000,
        state: UploadState::Sending,
        error_kind: None,
        message: None,
    }
}

fn failed_upload() -> UploadItem {
    UploadItem {
        id: 5,
        path: "/home/ada/Music/b.mp3".into(),
        size: 3_000_000,
        bytes_sent: 0,
        state: UploadState::Failed,
        error_kind: Some(ErrorKind::Network),
        message: Some("The locker does not answer: connection refused.".into()),
    }
}
