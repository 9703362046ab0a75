//! Tags and audio properties are read correctly from every supported format.

mod support;

use loft_library::{Library, TrackQuery};

#[test]
fn every_format_has_its_tags_and_properties_read() {
    let tmp = tempfile::tempdir().unwrap();
    let music = tmp.path().join("music");
    for format in support::FORMATS {
        support::copy_fixture(format.file, &music.join(format.name).join(format.file));
    }
    let library = Library::open(tmp.path().join("library.sqlite3")).unwrap();
    library.add_folder(&music).unwrap();
    let report = library.scan(&|_| {}).unwrap();
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert_eq!(report.added, support::FORMATS.len() as u64);

    let tracks = library.tracks(&TrackQuery { limit: 100, ..TrackQuery::default() }).unwrap();
    let mut problems = Vec::new();
    for format in support::FORMATS {
        let Some(track) = tracks.iter().find(|t| t.path.as_deref().unwrap().ends_with(format.file)) else {
            problems.push(format!("{}: not indexed", format.name));
            continue;
        };
        let mut check = |field: &str, ok: bool, got: String| {
            if !ok {
                problems.push(format!("{}: {field} read as {got}", format.name));
            }
        };
        check("title", track.title == "Hoppípolla", track.title.clone());
        check("artist", track.artist == "Sigur Rós", track.artist.clone());
        check("album", track.album == "Takk...", track.album.clone());
        check("track_no", track.track_no == Some(3), format!("{:?}", track.track_no));
        check("year", track.year == Some(2005), format!("{:?}", track.year));
        check("genre", track.genre == "Post-Rock", track.genre.clone());
        check("duration", (900..=1100).contains(&track.duration_ms), track.duration_ms.to_string());
        check("channels", track.channels == Some(2), format!("{:?}", track.channels));
        let expected_rate = if format.name == "opus" { 48_000 } else { 44_100 };
        check("sample_rate", track.sample_rate == Some(expected_rate), format!("{:?}", track.sample_rate));
        check("sha256", track.sha256.is_none(), format!("{:?}", track.sha256));
        if !format.basic_tags_only {
            check("album_artist", track.album_artist == "Sigur Rós", track.album_artist.clone());
            check("disc_no", track.disc_no == Some(1), format!("{:?}", track.disc_no));
            check("track_total", track.track_total == Some(11), format!("{:?}", track.track_total));
            check("composer", track.composer == "Jón Þór Birgisson", track.composer.clone());
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn replaygain_musicbrainz_and_technical_properties_are_read() {
    let tmp = tempfile::tempdir().unwrap();
    let music = tmp.path().join("music");
    std::fs::create_dir_all(&music).unwrap();
    let flac_tags: &[(&str, &str)] = &[
        ("title", "Tagged"),
        ("REPLAYGAIN_TRACK_GAIN", "-6.50 dB"),
        ("REPLAYGAIN_TRACK_PEAK", "0.988"),
        ("REPLAYGAIN_ALBUM_GAIN", "-7.25 dB"),
        ("REPLAYGAIN_ALBUM_PEAK", "1.000"),
        ("MUSICBRAINZ_TRACKID", "8f3471b5-7e6a-48da-86a9-c1c07a0f47ae"),
        ("MUSICBRAINZ_ALBUMID", "2f3b4c5d-0000-4000-8000-000000000001"),
        ("MUSICBRAINZ_ARTISTID", "5cfa1b16-0000-4000-8000-000000000002"),
        ("COMPILATION", "1"),
    ];
    support::encode(&music.join("tagged.flac"), &["-c:a", "flac", "-sample_fmt", "s32"], flac_tags, 0.5);
    let mp3_tags: &[(&str, &str)] = &[
        ("title", "Tagged MP3"),
        ("REPLAYGAIN_TRACK_GAIN", "+1.20 dB"),
        ("MusicBrainz Album Id", "2f3b4c5d-0000-4000-8000-000000000001"),
    ];
    support::encode(&music.join("tagged.mp3"), &["-c:a", "libmp3lame", "-b:a", "128k"], mp3_tags, 0.5);

    let library = Library::open(tmp.path().join("library.sqlite3")).unwrap();
    library.add_folder(&music).unwrap();
    library.scan(&|_| {}).unwrap();
    let tracks = library.tracks(&TrackQuery::default()).unwrap();

    let flac = tracks.iter().find(|t| t.title == "Tagged").unwrap();
    assert_eq!(flac.replaygain.track_gain_db, Some(-6.5));
    assert_eq!(flac.replaygain.track_peak, Some(0.988));
    assert_eq!(flac.replaygain.album_gain_db, Some(-7.25));
    assert_eq!(flac.replaygain.album_peak, Some(1.0));
    assert_eq!(flac.musicbrainz.recording_id.as_deref(), Some("8f3471b5-7e6a-48da-86a9-c1c07a0f47ae"));
    assert_eq!(flac.musicbrainz.release_id.as_deref(), Some("2f3b4c5d-0000-4000-8000-000000000001"));
    assert_eq!(flac.musicbrainz.artist_id.as_deref(), Some("5cfa1b16-0000-4000-8000-000000000002"));
    assert!(flac.compilation);
    assert_eq!(flac.album_artist, "Various Artists");
    assert_eq!(flac.bit_depth, Some(24), "ffmpeg stores s32 FLAC as 24-bit");
    assert!(flac.bitrate_kbps.is_some_and(|b| b > 0));
    assert_eq!(flac.format, "flac");

    let mp3 = tracks.iter().find(|t| t.title == "Tagged MP3").unwrap();
    assert_eq!(mp3.replaygain.track_gain_db, Some(1.2));
    assert_eq!(mp3.musicbrainz.release_id.as_deref(), Some("2f3b4c5d-0000-4000-8000-000000000001"));
    assert!(mp3.bitrate_kbps.is_some_and(|b| (120..=136).contains(&b)), "{:?}", mp3.bitrate_kbps);
    assert!(!mp3.compilation);
    assert_eq!(mp3.format, "mpeg");
}
