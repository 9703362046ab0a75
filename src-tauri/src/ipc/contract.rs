//! The contract tests: the committed bindings are what the Rust side generates now, and one
//! payload of every command and event matches its declared type on both sides.
//!
//! Both generated files are compared with what the code generates now and fail the test when
//! they differ. `LOFT_UPDATE_BINDINGS=1` (`scripts/ipc-bindings.sh`) writes them instead.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use specta::datatype::{DataType, Reference};
use tauri_specta::{BuilderConfiguration, Casing, LanguageExt};

use super::builder;
use super::payloads::{self, CommandPayload, Payloads};

const UPDATE_ENV: &str = "LOFT_UPDATE_BINDINGS";
/// Both relative to the desktop crate.
const BINDINGS: &str = "../ui/src/lib/bindings.ts";
const PAYLOADS: &str = "../ui/src/lib/bindings.payloads.ts";

const BINDINGS_HEADER: &str = "\
// Generated from the Rust commands, types and events by the contract tests in
// src-tauri/src/ipc/contract.rs; do not edit. Regenerate with `scripts/ipc-bindings.sh`.";

/// Compares `generated` with the committed file at `path`, or writes it when asked to.
fn check_generated(path: &Path, generated: &str) {
    if std::env::var_os(UPDATE_ENV).is_some() {
        std::fs::write(path, generated)
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        generated == committed,
        "{} is stale: the Rust commands, types, events or example payloads changed. Run \
         scripts/ipc-bindings.sh and commit the result.",
        path.display()
    );
}

fn crate_path(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

#[test]
fn generated_bindings_are_current() {
    // The exporter writes only to a file: a scratch one, compared with the committed one.
    let scratch = std::env::temp_dir().join(format!("loft-{}-bindings.ts", std::process::id()));
    let language = specta_typescript::Typescript::default().header(BINDINGS_HEADER);
    builder().export(language, &scratch).expect("export the bindings");
    let generated = std::fs::read_to_string(&scratch).expect("read the generated bindings");
    let _ = std::fs::remove_file(&scratch);
    check_generated(&crate_path(BINDINGS), &generated);
}

#[test]
fn every_command_has_a_payload_of_its_declared_types() {
    let configuration = configuration();
    let payloads = payloads::examples(configuration.types.clone());
    let mut seen = HashSet::new();
    for function in &configuration.commands {
        let name = function.name();
        let examples: Vec<&CommandPayload> = payloads.commands.iter().filter(|p| p.command == name).collect();
        let [example] = examples.as_slice() else {
            panic!("{name} needs exactly one example payload in src-tauri/src/ipc/payloads.rs");
        };
        seen.insert(name.to_owned());
        let declared: Vec<&str> = function.args().iter().map(|(arg, _)| arg.as_ref()).collect();
        let given: Vec<&str> = example.args.iter().map(|arg| arg.name).collect();
        assert_eq!(given, declared, "{name}: the example's arguments are not the command's, in order");
        for ((arg, declared_type), example_arg) in function.args().iter().zip(&example.args) {
            assert!(
                *declared_type == example_arg.datatype,
                "{name}({arg}): the example's argument is not of the declared type"
            );
        }
        // A command that returns nothing declares no result; Tauri sends it as `null`.
        let unit = <() as specta::Type>::definition(&mut configuration.types.clone());
        assert!(
            *function.result().unwrap_or(&unit) == example.result_type,
            "{name}: the example's result is not of the declared type"
        );
    }
    for example in &payloads.commands {
        assert!(seen.contains(example.command), "{} has an example but is not a command", example.command);
    }
}

#[test]
fn every_event_has_a_payload() {
    let configuration = configuration();
    let mut types = configuration.types.clone();
    let DataType::Reference(Reference::Named(reference)) =
        <loft_core::Event as specta::Type>::definition(&mut types)
    else {
        panic!("the event type is not a named type");
    };
    let Some(DataType::Enum(event)) = types.get(&reference).and_then(|ndt| ndt.ty.clone()) else {
        panic!("the event type is not an enum");
    };
    let payloads = payloads::examples(configuration.types.clone());
    let covered: HashSet<_> = payloads.events.iter().map(std::mem::discriminant).collect();
    assert_eq!(
        covered.len(),
        event.variants.len(),
        "every kind of event needs one example payload in src-tauri/src/ipc/payloads.rs"
    );
    assert_eq!(covered.len(), payloads.events.len(), "one example per kind of event");
}

#[test]
fn payload_fixtures_are_current() {
    let configuration = configuration();
    let payloads = payloads::examples(configuration.types.clone());
    let generated = render_payloads(&payloads);
    check_generated(&crate_path(PAYLOADS), &generated);
}

/// The builder's view of every command, type and event, as an exporter receives it.
fn configuration() -> BuilderConfiguration {
    #[derive(Default)]
    struct Capture(Arc<Mutex<Option<BuilderConfiguration>>>);

    impl LanguageExt for Capture {
        type Error = std::io::Error;

        fn export(self, cfg: &BuilderConfiguration, _path: &Path) -> Result<(), Self::Error> {
            *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(cfg.clone());
            Ok(())
        }
    }

    let captured = Arc::new(Mutex::new(None));
    builder().export(Capture(captured.clone()), Path::new("unused")).expect("capture the configuration");
    let configuration = captured.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
    configuration.expect("the builder exported its configuration")
}

/// `ui/src/lib/bindings.payloads.ts`: the payloads as TypeScript values, each checked against
/// the generated type with `satisfies` (an extra, missing or mistyped field fails
/// `npm run ui:check`), plus what the window sends for each call.
fn render_payloads(payloads: &Payloads) -> String {
    let mut out = String::from(
        "// Generated by the contract tests in src-tauri/src/ipc/contract.rs from the Rust values in\n\
         // src-tauri/src/ipc/payloads.rs; do not edit. Regenerate with `scripts/ipc-bindings.sh`.\n\
         //\n\
         // `npm run ui:check` checks every payload against the generated types in ./bindings, and\n\
         // bindings.payloads.test.ts sends each call through the generated commands.\n\n\
         import type { commands, ErrorPayload, LoftEvent } from './bindings';\n\n\
         type Commands = typeof commands;\n\
         /** What a call resolves to; Tauri sends `null` for a command that returns nothing. */\n\
         type Returned<C extends keyof Commands> =\n  \
         Awaited<ReturnType<Commands[C]>> extends void ? null : Awaited<ReturnType<Commands[C]>>;\n\n\
         /** For each command (by its name in `commands`): the arguments the generated function takes, the\n \
         * object the Rust command receives, and a result as the Rust command sends it. */\n\
         export const commandPayloads = {\n",
    );
    for example in &payloads.commands {
        let accessor = Casing::CamelCase.apply(example.command);
        let params: Vec<Value> = example.args.iter().map(|arg| arg.json.clone()).collect();
        let sent: serde_json::Map<String, Value> = example
            .args
            .iter()
            .map(|arg| (Casing::CamelCase.apply(arg.name).into_owned(), arg.json.clone()))
            .collect();
        out.push_str(&format!("  {accessor}: {{\n"));
        out.push_str(&format!("    command: {},\n", json(&Value::from(example.command), 4)));
        out.push_str(&format!(
            "    params: {} satisfies Parameters<Commands['{accessor}']>,\n",
            json(&Value::Array(params), 4)
        ));
        out.push_str(&format!("    sent: {},\n", json(&Value::Object(sent), 4)));
        out.push_str(&format!(
            "    result: {} satisfies Returned<'{accessor}'>,\n",
            json(&example.result, 4)
        ));
        out.push_str("  },\n");
    }
    out.push_str("};\n\n/** One event of each kind, as the shell emits it on the event channel. */\nexport const eventPayloads = [\n");
    for event in &payloads.events {
        let value = serde_json::to_value(event).expect("serialize an event");
        out.push_str(&format!("  {} satisfies LoftEvent,\n", json(&value, 2)));
    }
    let error = serde_json::to_value(&payloads.error).expect("serialize an error");
    out.push_str(&format!(
        "];\n\n/** A failed call's rejection. */\nexport const errorPayload = {} satisfies ErrorPayload;\n",
        json(&error, 0)
    ));
    out
}

/// Pretty JSON with its keys sorted, its lines after the first indented by `indent`. Sorting
/// here keeps the file the same whether or not a build enables serde_json's `preserve_order`.
fn json(value: &Value, indent: usize) -> String {
    let pretty = serde_json::to_string_pretty(&sorted(value.clone())).expect("serialize JSON");
    pretty.replace('\n', &format!("\n{}", " ".repeat(indent)))
}

fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.cmp(b));
            Value::Object(entries.into_iter().map(|(key, value)| (key, sorted(value))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}
