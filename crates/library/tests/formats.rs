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
