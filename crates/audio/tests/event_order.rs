//! The order of the engine's events, through a real cpal stream into a card that takes audio
//! at twice real time (see `common::card`), so positions come between track changes.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::card::{PacedCard, in_card_child};
use common::*;
use loft_audio::{Engine, EngineConfig, EngineEvent, FileOpener, GainSettings, QueueItem};

const TRACK_FRAMES: usize = RATE as usize * 3 / 2;

#[test]
fn a_track_change_comes_before_its_positions_across_joins_skips_and_seeks() {
    if in_card_child() {
        return play_through_joins_skips_and_seeks();
    }
    let card = PacedCard::new(2.0);
    card.run_child("a_track_change_comes_before_its_positions_across_joins_skips_and_seeks");
    let loud = card.samples().chunks_exact(2).filter(|frame| frame[0].abs() > 0.05).count();
    assert!(loud > RATE as usize * 3, "the card got {loud} audible frames");
}

/// Five 1.5 s tones: 0 joins 1; a skip from 1 to 2; a seek within 2; 2 joins 3; "previous"
/// from 3 goes back to 2, which joins 3 and 3 joins 4 to the end.
fn play_through_joins_skips_and_seeks() {
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<QueueItem> = (0..5)
        .map(|i| {
            let path = temp_path(&dir, &format!("tone-{i}.wav"));
            write_wav_i16(&path, &tone_i16(TRACK_FRAMES, RATE, 300.0 + 100.0 * i as f64, 0.5), RATE, 2);
            QueueItem { track_id: 100 + i as i64, opener: Arc::new(FileOpener::new(path)) }
        })
        .collect();
    let (sender, events) = std::sync::mpsc::channel();
    let config = EngineConfig { device: None, volume: 1.0, gain: GainSettings::default() };
    let engine = Engine::start(config, move |event| {
        let _ = sender.send(event);
    })
    .unwrap();
    engine.play_now(items, 0).unwrap();

    let mut seen = Vec::new();
    let (mut skipped, mut sought, mut went_back) = (false, false, false);
    loop {
        let event = events.recv_timeout(Duration::from_secs(30)).expect("the queue never ended");
        seen.push(event.clone());
        match event {
            EngineEvent::QueueEnded => break,
            EngineEvent::Position { index: 1, position_secs, .. } if position_secs > 0.3 && !skipped => {
                skipped = true;
                engine.next().unwrap();
            }
            EngineEvent::Position { index: 2, position_secs, .. } if position_secs > 0.3 && !sought => {
                sought = true;
                engine.seek(1.0).unwrap();
            }
            EngineEvent::Position { index: 3, position_secs, .. } if position_secs > 0.3 && !went_back => {
                went_back = true;
                engine.previous().unwrap();
            }
            _ => {}
        }
    }

    let mut playing: Option<(usize, i64)> = None;
    let mut changes = Vec::new();
    let mut positions = 0;
    for event in &seen {
        match event {
            EngineEvent::TrackChanged { index, track_id, .. } => {
                playing = Some((*index, *track_id));
                changes.push(*index);
            }
            EngineEvent::Position { index, track_id, .. } => {
                assert_eq!(
                    playing,
                    Some((*index, *track_id)),
                    "a position before its track change: {seen:?}"
                );
                positions += 1;
            }
            EngineEvent::Error { .. } => panic!("nothing here fails: {seen:?}"),
            _ => {}
        }
    }
    assert_eq!(changes, vec![0, 1, 2, 3, 2, 3, 4], "{seen:?}");
    assert!((skipped, sought, went_back) == (true, true, true), "{seen:?}");
    assert!(positions >= 10, "only {positions} positions: {seen:?}");
    // The device has taken the last frame; the card has yet to play it.
    std::thread::sleep(Duration::from_millis(500));
}
