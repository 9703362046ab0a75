//! Rule playlists over a generated library: whatever the rule, the tracks the SQL picks are the
//! tracks the same filter picks when done here, in Rust, over the same data.

use loft_library::{
    Condition, Library, Listening, LockerCopy, Match, RuleField, RuleOp, RuleSort, SmartRule,
    builtin_smart_playlists,
};
use proptest::prelude::*;
use serde_json::Value;

const NOW_MS: u64 = 1_800_000_000_000;
const DAY_MS: u64 = 86_400_000;
const GENRES: [&str; 4] = ["Jazz", "Rock", "Ambient", ""];
const ARTISTS: [&str; 4] = ["Sigur Rós", "The Testers", "Nina Simone", "Miles Davis"];

/// What the test knows of each generated track, to filter in Rust.
#[derive(Debug, Clone)]
struct Known {
    sha256: String,
    title: String,
    artist: String,
    genre: String,
    year: Option<u32>,
    duration_ms: u64,
    added_ms: u64,
    listening: Listening,
}

fn generate(library: &Library, count: usize, seed: u64) -> Vec<Known> {
    let mut state = seed | 1;
    let mut next = move |bound: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % bound
    };
    let mut known = Vec::with_capacity(count);
    for index in 0..count {
        let sha256 = format!("{index:064x}");
        let title = format!("Song {}", next(50));
        let artist = ARTISTS[next(4) as usize].to_owned();
        let genre = GENRES[next(4) as usize].to_owned();
        let year = (next(5) > 0).then(|| 1960 + next(60) as u32);
        let duration_ms = 60_000 + next(600) * 1000;
        let added_ms = NOW_MS - next(400) * DAY_MS;
        let plays = if next(3) == 0 { 0 } else { next(20) };
        let listening = Listening {
            sha256: sha256.clone(),
            play_count: plays,
            last_played_ms: (plays > 0).then(|| NOW_MS - next(200) * DAY_MS - 1000),
            loved: next(4) == 0,
            rating: (next(2) == 0).then(|| next(6) as u8),
            resume_ms: None,
        };
        known.push(Known { sha256, title, artist, genre, year, duration_ms, added_ms, listening });
    }
    let copies: Vec<LockerCopy> = known
        .iter()
        .map(|track| LockerCopy {
            id: track.sha256.clone(),
            size: 1000,
            file_name: Some(format!("{}.flac", track.title)),
            title: Some(track.title.clone()),
            artist: Some(track.artist.clone()),
            album: Some("Generated".into()),
            album_artist: None,
            genre: (!track.genre.is_empty()).then(|| track.genre.clone()),
            year: track.year,
            track_no: None,
            disc_no: None,
            duration_ms: Some(track.duration_ms),
            added_ms: track.added_ms,
        })
        .collect();
    library.apply_locker_changes(&copies, &[]).unwrap();
    let states: Vec<Listening> = known.iter().map(|track| track.listening.clone()).collect();
    library.apply_listening(&states).unwrap();
    known
}

fn matches(track: &Known, condition: &Condition) -> bool {
    let text = |value: &str| {
        let wanted = condition.value.as_str().unwrap().to_lowercase();
        let value = value.to_lowercase();
        match condition.op {
            RuleOp::Is => value == wanted,
            RuleOp::IsNot => value != wanted,
            RuleOp::Contains => value.contains(&wanted),
            RuleOp::NotContains => !value.contains(&wanted),
            RuleOp::StartsWith => value.starts_with(&wanted),
            _ => unreachable!(),
        }
    };
    let number = |value: Option<i64>| {
        let Some(value) = value else { return false };
        let mut wanted = condition.value.as_i64().unwrap();
        if condition.field == RuleField::Duration {
            wanted *= 1000;
        }
        match condition.op {
            RuleOp::Is => value == wanted,
            RuleOp::IsNot => value != wanted,
            RuleOp::Gt => value > wanted,
            RuleOp::Ge => value >= wanted,
            RuleOp::Lt => value < wanted,
            RuleOp::Le => value <= wanted,
            _ => unreachable!(),
        }
    };
    let days = || NOW_MS as i64 - condition.value.as_i64().unwrap() * DAY_MS as i64;
    match condition.field {
        RuleField::Title => text(&track.title),
        RuleField::Artist => text(&track.artist),
        RuleField::Genre => text(&track.genre),
        RuleField::Year => number(track.year.map(i64::from)),
        RuleField::Duration => number(Some(track.duration_ms as i64)),
        RuleField::PlayCount => number(Some(track.listening.play_count as i64)),
        RuleField::Rating => number(track.listening.rating.map(i64::from)),
        RuleField::Loved => {
            track.listening.loved == (condition.value.as_bool().unwrap() == (condition.op == RuleOp::Is))
        }
        RuleField::LastPlayed => {
            let played = track.listening.last_played_ms.map(|at| at as i64);
            match condition.op {
                RuleOp::InLastDays => played.is_some_and(|at| at >= days()),
                _ => played.is_none_or(|at| at < days()),
            }
        }
        RuleField::Added => {
            let added = (track.added_ms / 1000) as i64;
            match condition.op {
                RuleOp::InLastDays => added >= days() / 1000,
                _ => added < days() / 1000,
            }
        }
        _ => unreachable!(),
    }
}

fn condition() -> impl Strategy<Value = Condition> {
    let text_field = prop::sample::select(vec![RuleField::Title, RuleField::Artist, RuleField::Genre]);
    let text_op = prop::sample::select(vec![
        RuleOp::Is,
        RuleOp::IsNot,
        RuleOp::Contains,
        RuleOp::NotContains,
        RuleOp::StartsWith,
    ]);
    let text_value = prop::sample::select(vec!["jazz", "Song 1", "sigur", "THE", "rós", ""]);
    let number_field = prop::sample::select(vec![
        RuleField::Year,
        RuleField::Duration,
        RuleField::PlayCount,
        RuleField::Rating,
    ]);
    let number_op =
        prop::sample::select(vec![RuleOp::Is, RuleOp::IsNot, RuleOp::Gt, RuleOp::Ge, RuleOp::Lt, RuleOp::Le]);
    let date_field = prop::sample::select(vec![RuleField::LastPlayed, RuleField::Added]);
    let date_op = prop::sample::select(vec![RuleOp::InLastDays, RuleOp::NotInLastDays]);
    prop_oneof![
        (text_field, text_op, text_value).prop_map(|(field, op, value)| Condition {
            field,
            op,
            value: Value::from(value)
        }),
        (number_field, number_op, 0i64..6).prop_map(|(field, op, value)| {
            let value = match field {
                RuleField::Year => 1960 + value * 10,
                RuleField::Duration => 60 + value * 100,
                RuleField::PlayCount => value * 3,
                _ => value,
            };
            Condition { field, op, value: Value::from(value) }
        }),
        (date_field, date_op, 0i64..300).prop_map(|(field, op, value)| Condition {
            field,
            op,
            value: Value::from(value)
        }),
        (prop::sample::select(vec![RuleOp::Is, RuleOp::IsNot]), any::<bool>())
            .prop_map(|(op, value)| Condition { field: RuleField::Loved, op, value: Value::Bool(value) }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_rule_picks_what_the_same_filter_picks(
        conditions in prop::collection::vec(condition(), 0..4),
        any_of in any::<bool>(),
        limit in prop::option::of(1u32..40),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let library = Library::open(tmp.path().join("library.sqlite3")).unwrap();
        let known = generate(&library, 300, 7);
        let rule = SmartRule {
            match_: if any_of { Match::Any } else { Match::All },
            conditions: conditions.clone(),
            sort: Some(RuleSort { field: RuleField::PlayCount, descending: true }),
            limit,
        };
        let picked = library.smart_tracks(&rule, NOW_MS).unwrap();
        let mut expected: Vec<&Known> = known
            .iter()
            .filter(|track| {
                if conditions.is_empty() {
                    return true;
                }
                let mut each = conditions.iter().map(|condition| matches(track, condition));
                if any_of { each.any(|hit| hit) } else { each.all(|hit| hit) }
            })
            .collect();
        // Most played first; ties in track id order (the ids follow the generation order here).
        expected.sort_by_key(|track| std::cmp::Reverse(track.listening.play_count));
        let picked_counts: Vec<u64> = picked.iter().map(|track| track.play_count).collect();
        let expected_counts: Vec<u64> =
            expected.iter().take(limit.map_or(usize::MAX, |limit| limit as usize)).map(|track| track.listening.play_count).collect();
        prop_assert_eq!(&picked_counts, &expected_counts);
        if limit.is_none() {
            let mut picked_ids: Vec<&str> = picked.iter().map(|track| track.sha256.as_deref().unwrap()).collect();
            let mut expected_ids: Vec<&str> = expected.iter().map(|track| track.sha256.as_str()).collect();
            picked_ids.sort_unstable();
            expected_ids.sort_unstable();
            prop_assert_eq!(picked_ids, expected_ids);
        }
    }
}

#[test]
fn the_built_in_rule_playlists_pick_what_they_say() {
    let tmp = tempfile::tempdir().unwrap();
    let library = Library::open(tmp.path().join("library.sqlite3")).unwrap();
    let known = generate(&library, 200, 11);
    let by_id =
        |id: &str| builtin_smart_playlists().into_iter().find(|(builtin, _, _)| *builtin == id).unwrap().2;
    let loved = library.smart_tracks(&by_id("builtin-loved"), NOW_MS).unwrap();
    assert_eq!(loved.len(), known.iter().filter(|track| track.listening.loved).count());
    assert!(loved.iter().all(|track| track.loved));
    let never = library.smart_tracks(&by_id("builtin-never-played"), NOW_MS).unwrap();
    assert_eq!(never.len(), known.iter().filter(|track| track.listening.play_count == 0).count());
    let most = library.smart_tracks(&by_id("builtin-most-played"), NOW_MS).unwrap();
    assert!(most.windows(2).all(|pair| pair[0].play_count >= pair[1].play_count));
    assert!(most.len() <= 100 && most.iter().all(|track| track.play_count > 0));
    let recent = library.smart_tracks(&by_id("builtin-recently-played"), NOW_MS).unwrap();
    assert!(recent.windows(2).all(|pair| pair[0].last_played_ms >= pair[1].last_played_ms));
    let added = library.smart_tracks(&by_id("builtin-recently-added"), NOW_MS).unwrap();
    assert_eq!(added.len(), 100);
    assert!(added.windows(2).all(|pair| pair[0].added_at >= pair[1].added_at));
}

/// The Songs list sorts by the listening columns too: by rating, hearts and last played, going
/// up or down, with the tracks that have none (unrated, never played) first going up and last
/// going down.
#[test]
fn the_songs_list_sorts_by_rating_hearts_and_last_played() {
    use loft_library::{SortField, TrackQuery};
    let tmp = tempfile::tempdir().unwrap();
    let library = Library::open(tmp.path().join("library.sqlite3")).unwrap();
    let known = generate(&library, 300, 11);
    let by_sha: std::collections::HashMap<&str, &Known> =
        known.iter().map(|track| (track.sha256.as_str(), track)).collect();
    type Key = fn(&Known) -> Option<u64>;
    let keys: [(SortField, Key); 3] = [
        (SortField::Rating, |track| track.listening.rating.map(u64::from)),
        (SortField::LastPlayed, |track| track.listening.last_played_ms),
        (SortField::Loved, |track| Some(u64::from(track.listening.loved))),
    ];
    for (sort, key) in keys {
        for descending in [false, true] {
            let listed =
                library.tracks(&TrackQuery { sort, descending, limit: 1000, ..Default::default() }).unwrap();
            assert_eq!(listed.len(), known.len());
            let values: Vec<Option<u64>> = listed
                .iter()
                .map(|track| key(by_sha[track.sha256.as_deref().expect("locker tracks have a hash")]))
                .collect();
            let mut expected = values.clone();
            // Option orders None first, as SQLite orders NULL.
            expected.sort();
            if descending {
                expected.reverse();
            }
            assert_eq!(values, expected, "{sort:?} descending={descending}");
            assert!(
                values.iter().collect::<std::collections::HashSet<_>>().len() > 1,
                "{sort:?}: a spread to sort"
            );
        }
    }
}
