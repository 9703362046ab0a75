//! The contract between the shell and the window: every command (from `command_list.rs`),
//! its argument and result types, the error shape and the event channel, described once here.
//! The same description registers the handlers at run time and generates the TypeScript
//! bindings the UI calls (`ui/src/lib/bindings.ts`), so the two cannot drift apart.

use tauri_specta::{ErrorHandlingMode, collect_events};

use crate::commands;
use crate::events::LoftEvent;

macro_rules! loft_commands {
    ($($module:ident :: $command:ident),* $(,)?) => {
        fn collect_commands() -> tauri_specta::Commands<tauri::Wry> {
            tauri_specta::collect_commands![$(commands::$module::$command),*]
        }
    };
}
include!("command_list.rs");

/// Registers the commands and the event channel; also what the contract tests generate the
/// TypeScript bindings from (`ipc/contract.rs`).
pub fn builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(collect_commands())
        .events(collect_events![LoftEvent])
        // Not every command names it in its signature (those that cannot fail), but every
        // failed call arrives in this shape.
        .typ::<loft_core::ErrorPayload>()
        // A failed call rejects its promise with an `ErrorPayload`; ui/src/lib/api.ts turns
        // it into a `LoftError` the notices show.
        .error_handling(ErrorHandlingMode::Throw)
        // Ids, counts and byte sizes are 64-bit in Rust and numbers in JSON; none comes near
        // 2^53, where a JavaScript number would lose precision.
        .dangerously_cast_bigints_to_number()
        // One TypeScript type per Rust type. With serde phases, every type with an `Option`
        // or a `#[serde(default)]` field gets a second, as-deserialized twin (the field
        // optional), which results never need; arguments only lose that leniency.
        .disable_serde_phases()
}

#[cfg(test)]
mod contract;
#[cfg(test)]
mod payloads;
