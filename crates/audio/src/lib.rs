//! The Loft audio engine.
mod decode;
mod error;
mod mp4;
mod source;

pub use decode::GainTags;
pub use error::{AudioError, AudioErrorKind};
pub(crate) use error::{catch_panic, contain, fault};
pub use source::{FileOpener, MediaOpener, MediaStream, QueueItem};
mod dsp;
pub use dsp::{
    GainSettings, RateConverter, ReplayGainMode, map_to_stereo, perceptual_volume, replaygain_factor,
};
mod chain;
mod render;
pub use render::{RenderOptions, RenderReport, TrackFailure, render_to_wav};
mod engine;
mod output;
mod queue;
pub use engine::{Engine, EngineConfig, EngineEvent, PlaybackState, PlayerStatus};
pub use output::{DeviceInfo, list_devices};
pub use queue::RepeatMode;
