//! Property tests, bounded so the test command stays quick: the catalog merge converges for any
//! set of ops in any order (extreme values included), and no parser of locker content panics
//! or accepts what its checks forbid, whatever the bytes.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::catalog::{CatalogState, Change, Hlc, Op, position_between};
use crate::format::{self, BlobManifest, LockerFile};
use crate::log::RawLogFile;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() }
}

const TRACKS: [&str; 3] = [
    "0000000000000000000000000000000000000000000000000000000000000001",
    "00000000000000000000000000000000000000000000000000000000000000ff",
    "abababababababababababababababababababababababababababababababab",
];

/// Clock readings from a small range (so ties and equal milliseconds are common) and from the
/// very edges of what is valid.
fn hlc() -> impl Strategy<Value = Hlc> {
    let wall = prop_oneof![0u64..6, Just(crate::catalog::MAX_WALL_MS), Just(crate::catalog::MAX_WALL_MS - 1)];
    let counter = prop_oneof![0u32..3, Just(u32::MAX)];
    (wall, counter).prop_map(|(wall_ms, counter)| Hlc { wall_ms, counter })
}

fn change() -> impl Strategy<Value = Change> {
    let track = prop::sample::select(TRACKS.to_vec()).prop_map(str::to_owned);
    let playlist = prop::sample::select(vec!["p1", "p2"]).prop_map(str::to_owned);
    let entry = prop::sample::select(vec!["e1", "e2", "e3"]).prop_map(str::to_owned);
    let position = prop::sample::select(vec!["1", "i", "z", "i5", "zz"]).prop_map(str::to_owned);
    let name = "[a-z]{0,3}";
    let value = prop_oneof![
        Just(Value::Null),
        any::<u64>().prop_map(Value::from),
        "[a-z]{0,4}".prop_map(Value::from),
    ];
    let fields =
        prop::collection::btree_map(prop::sample::select(vec!["title", "artist", "year"]), value, 0..3)
            .prop_map(|fields| {
                fields.into_iter().map(|(name, value)| (name.to_owned(), value)).collect::<BTreeMap<_, _>>()
            });
    prop_oneof![
        (track.clone(), prop_oneof![Just(0u64), Just(format::MAX_BLOB_SIZE), 1u64..1000], fields.clone())
            .prop_map(|(track, size, fields)| Change::TrackPut { track, size, fields }),
        (track.clone(), fields).prop_map(|(track, fields)| Change::TrackEdit { track, fields }),
        track.clone().prop_map(|track| Change::TrackRemove { track }),
        (playlist.clone(), name).prop_map(|(playlist, name)| Change::PlaylistCreate { playlist, name }),
        (playlist.clone(), name).prop_map(|(playlist, name)| Change::PlaylistRename { playlist, name }),
        playlist.clone().prop_map(|playlist| Change::PlaylistDelete { playlist }),
        (playlist.clone(), entry.clone(), track.clone(), position.clone()).prop_map(
            |(playlist, entry, track, position)| Change::PlaylistAdd { playlist, entry, track, position }
        ),
        (playlist.clone(), entry.clone(), position)
            .prop_map(|(playlist, entry, position)| Change::PlaylistMove { playlist, entry, position }),
        (playlist, entry).prop_map(|(playlist, entry)| Change::PlaylistRemove { playlist, entry }),
        (track.clone(), 1u64..5, 0u64..10).prop_map(|(track, plays, last_played_ms)| Change::TrackPlayed {
            track,
            plays,
            last_played_ms
        }),
        (track.clone(), any::<bool>()).prop_map(|(track, loved)| Change::TrackLoved { track, loved }),
        (track.clone(), prop::option::of(0u8..=5))
            .prop_map(|(track, rating)| Change::TrackRated { track, rating }),
        (track.clone(), 0u64..1000)
            .prop_map(|(track, position_ms)| Change::TrackResume { track, position_ms }),
        (prop::sample::select(vec!["s1", "s2"]), name).prop_map(|(playlist, name)| {
            Change::SmartPlaylistPut {
                playlist: playlist.to_owned(),
                name,
                rule: json!({"match": "all", "conditions": []}),
            }
        }),
        prop::sample::select(vec!["s1", "s2"])
            .prop_map(|playlist| Change::SmartPlaylistDelete { playlist: playlist.to_owned() }),
        "[a-z_]{1,8}".prop_map(|kind| {
            let mut body = serde_json::Map::new();
            body.insert("op".into(), Value::from(format!("x_{kind}")));
            Change::Unknown { kind: format!("x_{kind}"), body }
        }),
    ]
}

/// Ops as devices write them: one device's ops have distinct clock readings (its clock only
/// goes forward), so every op in the set has a distinct stamp.
fn op_sets() -> impl Strategy<Value = Vec<(String, Op)>> {
    prop::collection::vec((0usize..3, hlc(), change()), 0..40).prop_map(|ops| {
        let mut seen = std::collections::BTreeSet::new();
        ops.into_iter()
            .filter(|(device, hlc, _)| seen.insert((*device, *hlc)))
            .map(|(device, hlc, change)| (format!("dev-{device}"), Op { hlc, change }))
            .collect()
    })
}

proptest! {
    #![proptest_config(config())]

    /// Any delivery order, with repeats, gives the same catalog, and its snapshot form reads
    /// back to the same catalog.
    #[test]
    fn the_merge_converges_in_any_order(ops in op_sets(), order in any::<u64>(), repeats in 0usize..5) {
        let mut reference = CatalogState::default();
        for (device, op) in &ops {
            prop_assert!(op.check().is_ok(), "{op:?}");
            reference.apply(device, op);
        }
        let mut shuffled: Vec<&(String, Op)> = ops.iter().collect();
        let mut state = order | 1;
        for index in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(index, (state % (index as u64 + 1)) as usize);
        }
        for again in 0..repeats.min(shuffled.len()) {
            shuffled.push(shuffled[again]);
        }
        let mut merged = CatalogState::default();
        for (device, op) in shuffled {
            merged.apply(device, op);
        }
        prop_assert_eq!(&merged, &reference);
        prop_assert_eq!(merged.tracks(), reference.tracks());
        prop_assert_eq!(merged.playlists(), reference.playlists());
        prop_assert_eq!(merged.all_listening(), reference.all_listening());
        prop_assert_eq!(merged.smart_playlists(), reference.smart_playlists());
        // Plays add up over devices: each device's count is the largest it wrote.
        for listening in merged.all_listening() {
            let mut per_device: BTreeMap<&str, u64> = BTreeMap::new();
            for (device, op) in &ops {
                if let Change::TrackPlayed { track, plays, .. } = &op.change && *track == listening.track {
                    let count = per_device.entry(device.as_str()).or_default();
                    *count = (*count).max(*plays);
                }
            }
            prop_assert_eq!(listening.play_count, per_device.values().sum::<u64>());
        }
        let wire = serde_json::to_vec(&merged.to_wire()).unwrap();
        let back = CatalogState::from_wire(serde_json::from_slice(&wire).unwrap()).unwrap();
        prop_assert_eq!(back, merged);
    }

    /// Ops with any numbers: each one is refused with a reason or applied, never a panic, and
    /// usage never overflows.
    #[test]
    fn extreme_ops_are_refused_or_applied(wall in any::<u64>(), counter in any::<u64>(), size in any::<u64>(), year in any::<i64>()) {
        let value = json!([
            {"op": "track_put", "track": TRACKS[0], "size": size, "fields": {"year": year}, "hlc": {"wall_ms": wall, "counter": counter}},
            {"op": "track_put", "track": TRACKS[1], "size": size, "fields": {}, "hlc": {"wall_ms": 1, "counter": 0}},
        ]);
        let mut catalog = CatalogState::default();
        for op in value.as_array().unwrap() {
            if let Ok(op) = Op::from_value(op.clone()) && op.check().is_ok() {
                catalog.apply("dev", &op);
            }
        }
        let _ = catalog.tracks();
        prop_assert!(catalog.referenced_bytes() <= 2 * format::MAX_BLOB_SIZE);
    }

    /// Positions between any two valid positions are valid and strictly between.
    #[test]
    fn positions_fit_between_any_two(low in "[0-9a-z]{0,12}[1-9a-z]", high in "[0-9a-z]{0,12}[1-9a-z]") {
        let (low, high) = if low < high { (low, high) } else { (high, low) };
        let middle = position_between(Some(&low), Some(&high));
        prop_assert!(crate::catalog::check_position(&middle).is_ok(), "{middle}");
        prop_assert!(low < middle, "{low} < {middle}");
        prop_assert!(middle < high || low == high, "{middle} < {high}");
    }

    /// Arbitrary bytes never panic a parser.
    #[test]
    fn parsers_take_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = LockerFile::parse(&bytes);
        let _ = BlobManifest::parse(TRACKS[0], &bytes);
        let _ = RawLogFile::parse("catalog/log/d/00000000000000000000.json", "d", 0, &bytes);
        if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
            let _ = Op::from_value(value);
        }
        let _ = serde_json::from_slice::<crate::catalog::WireState>(&bytes).map(CatalogState::from_wire);
    }

    /// Arbitrary names never panic the path parsers, and what they accept names things safely.
    #[test]
    fn path_parsers_take_any_names(name in "[a-z0-9/._ -]{0,120}", tail in ".{0,40}") {
        for path in [name.clone(), format!("catalog/log/{name}"), format!("parts/sha256/{name}"), format!("blobs/sha256/{name}"), format!("catalog/devices/{tail}.json"), format!("catalog/snapshot/{tail}")] {
            if let Some((device, seq)) = format::parse_log_path(&path) {
                prop_assert!(format::is_plain_id(&device) && seq <= format::MAX_SEQ);
            }
            if let Some((blob, _)) = format::part_of_path(&path) {
                prop_assert!(format::is_sha256_hex(blob));
            }
            if let Some(blob) = format::blob_of_manifest_path(&path) {
                prop_assert!(format::is_sha256_hex(blob));
            }
            if let Some(device) = format::device_of_path(&path) {
                prop_assert!(format::is_plain_id(device));
            }
            let _ = format::is_snapshot_path(&path);
        }
    }

    /// A manifest is accepted only when it is consistent and names the blob it was read under.
    #[test]
    fn manifests_are_accepted_only_when_consistent(
        sha in prop::sample::select(vec![TRACKS[0].to_owned(), TRACKS[1].to_owned(), "../../x".to_owned(), "AB".repeat(32)]),
        size in prop_oneof![0u64..300_000, Just(u64::MAX), Just(format::MAX_BLOB_SIZE + 1)],
        part_size in prop_oneof![Just(65_536u64), Just(0), Just(1), Just(u64::MAX)],
        parts in 0usize..8,
    ) {
        let text = json!({"format": 1, "sha256": sha, "size": size, "part_size": part_size, "parts": vec![TRACKS[2]; parts]});
        if let Ok(manifest) = BlobManifest::parse(TRACKS[0], text.to_string().as_bytes()) {
            prop_assert_eq!(manifest.sha256.as_str(), TRACKS[0]);
            prop_assert_eq!(manifest.parts.len() as u64, format::part_count(manifest.size, manifest.part_size));
            prop_assert!(manifest.size <= format::MAX_BLOB_SIZE);
        }
    }
}
