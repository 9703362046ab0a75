//! An engine with nothing to play sleeps: its threads block on their channels until a
//! command comes. Counted by the kernel (each thread's voluntary context switches), in a test
//! binary of its own so no other engine's threads are counted.

mod common;

use std::collections::BTreeMap;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use common::*;
use loft_audio::{Engine, EngineConfig, EngineEvent, GainSettings, PlaybackState};

#[test]
fn a_stopped_engine_sleeps_until_a_command_comes() {
    let dir = tempfile::tempdir().unwrap();
    let wav = temp_path(&dir, "tone.wav");
    write_wav_i16(&wav, &tone_i16(RATE as usize / 4, RATE, 440.0, 0.5), RATE, 2);
    let (sender, events) = std::sync::mpsc::channel();
    let config =
        EngineConfig { device: Some("alsa:null".into()), volume: 1.0, gain: GainSettings::default() };
    let engine = Engine::start(config, move |event| {
        let _ = sender.send(event);
    })
    .unwrap();
    assert_sleeping("before anything played");

    // At the end of the queue.
    engine.play_now(vec![file_item(&wav)], 0).unwrap();
    wait_for(&events, |e| e == &EngineEvent::QueueEnded);
    assert_sleeping("after the queue ended");

    // Stopped by hand, part way through a track.
    let long = temp_path(&dir, "long.wav");
    write_wav_i16(&long, &tone_i16(RATE as usize * 30, RATE, 440.0, 0.5), RATE, 2);
    engine.play_now(vec![file_item(&long)], 0).unwrap();
    wait_for(&events, |e| matches!(e, EngineEvent::TrackChanged { .. }));
    engine.stop().unwrap();
    wait_for(&events, |e| e == &EngineEvent::StateChanged { state: PlaybackState::Stopped });
    assert_sleeping("after a stop");

    // Asleep is not gone: the next command plays.
    engine.play_now(vec![file_item(&wav)], 0).unwrap();
    wait_for(&events, |e| e == &EngineEvent::QueueEnded);
}

fn wait_for(events: &Receiver<EngineEvent>, what: impl Fn(&EngineEvent) -> bool) {
    loop {
        let event = events.recv_timeout(Duration::from_secs(20)).expect("the engine went quiet");
        if what(&event) {
            return;
        }
    }
}

/// Fails unless the engine's threads stay asleep for a second (the old engine woke its
/// decoder thread 200 times a second and its reporter 20 times).
fn assert_sleeping(when: &str) {
    // What was already under way when the state was reached finishes first.
    std::thread::sleep(Duration::from_millis(300));
    let before = engine_thread_wakeups();
    assert_eq!(before.len(), 2, "expected the decoder and reporter threads: {before:?}");
    std::thread::sleep(Duration::from_secs(1));
    let after = engine_thread_wakeups();
    for (thread, count) in &after {
        let woke = count - before[thread];
        assert!(woke <= 2, "{when}: {thread} woke {woke} times in a second");
    }
}

/// Voluntary context switches (a thread going to sleep) of the engine's threads, by name.
fn engine_thread_wakeups() -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let task = task.unwrap().path();
        let Ok(name) = std::fs::read_to_string(task.join("comm")) else { continue };
        let name = name.trim().to_owned();
        if !name.starts_with("loft-audio") {
            continue;
        }
        let status = std::fs::read_to_string(task.join("status")).unwrap();
        let switches = status
            .lines()
            .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|count| count.trim().parse().ok())
            .expect("a voluntary_ctxt_switches line");
        counts.insert(name, switches);
    }
    counts
}
