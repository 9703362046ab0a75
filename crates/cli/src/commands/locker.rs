//! `loft locker …`, `loft upload` and `loft sync`: the locker from the command line.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use clap::{Args, Subcommand};
use loft_core::locker_types::{
    CheckReport, Credentials, GcOptions, GcReport, LockerLocation, LockerStatus, UploadReport, format_size,
    parse_size,
};
use loft_core::locker_types::{EncryptReport, LockerSecret};
use loft_core::{CoreError, Event, EventSink, LockerKeying, Loft, SyncSummary};
use serde::Serialize;

use super::CliError;
use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum LockerCommand {
    /// Connect a locker: s3://BUCKET/PREFIX?endpoint=URL&region=R, webdav+https://HOST/PATH or
    /// file:///PATH. An empty location becomes a new locker. Credentials come from
    /// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or LOFT_WEBDAV_USER/LOFT_WEBDAV_PASSWORD, from
    /// the OS keychain, or from --login (stored in the keychain).
    Connect {
        #[arg(value_name = "URL")]
        url: String,
        /// The access key id (S3) or user name (WebDAV); the secret is read from standard
        /// input, and kept in the OS keychain, never in a file.
        #[arg(long, value_name = "ID")]
        login: Option<String>,
        /// Create the locker encrypted (an empty location only): the storage sees ciphertext
        /// and random names. The passphrase comes from LOFT_LOCKER_PASSPHRASE or is asked for;
        /// the recovery key is printed once, to write down.
        #[arg(long)]
        encrypt: bool,
    },
    /// Unlock an encrypted locker on this device (the key is then kept in the OS keychain).
    /// The passphrase comes from LOFT_LOCKER_PASSPHRASE or is asked for.
    Unlock {
        /// Unlock with the recovery key instead (LOFT_LOCKER_RECOVERY_KEY, or asked for).
        #[arg(long)]
        recovery_key: bool,
    },
    /// Encrypt the connected locker, or go on encrypting it. Other devices keep working and
    /// switch once they unlock it; the plaintext is deleted when every device has. Safe to
    /// stop at any point and run again.
    Encrypt {
        /// A device not to wait for (lost or retired); may be given several times.
        #[arg(long = "without", value_name = "DEVICE")]
        without: Vec<String>,
    },
    /// Change the encrypted locker's passphrase (asks for the current one, or with
    /// --recovery-key for the recovery key; the new one comes from LOFT_LOCKER_NEW_PASSPHRASE
    /// or is asked for).
    Passphrase {
        #[arg(long)]
        recovery_key: bool,
    },
    /// Print the encrypted locker's recovery key again.
    RecoveryKey,
    /// Try a locker location without connecting it: says which step fails (name resolution,
    /// connection, TLS, credentials, bucket, permission). Exits with 1 when one does.
    Test {
        #[arg(value_name = "URL")]
        url: String,
        /// As for `connect`; the secret is read from standard input and not stored.
        #[arg(long, value_name = "ID")]
        login: Option<String>,
    },
    /// Disconnect the locker: its tracks leave this library; nothing in the locker changes.
    Disconnect,
    /// Show the locker's usage, quota, tracks, devices and last sync.
    Status,
    /// Change the locker's quota, for every device: 5GiB, 500MB, 1KB or a number of bytes.
    Quota {
        #[arg(value_name = "SIZE")]
        size: String,
    },
    /// Remove a track from the locker (a local file of it stays). TRACK_ID is the number
    /// `loft tracks --json` shows as "id", or the track's SHA-256.
    Rm {
        #[arg(value_name = "TRACK_ID")]
        track: String,
    },
    /// Verify the whole locker: every referenced blob's manifest and parts (downloaded and
    /// hashed), every log, snapshot and device record. Lists what is damaged or missing with a
    /// suggested repair, and what is merely unreferenced. Exits with 1 when anything is damaged.
    Check,
    /// Delete blobs no device can still reference, once unreferenced for the grace period
    /// (measured with the storage's clock). Says what it removed, or why it would not run.
    Gc {
        /// How long a blob must have been unreferenced: 7d (the default), 24h, 30m, 90s, 0.
        #[arg(long, value_name = "DURATION", default_value = "7d")]
        grace: String,
        /// Say what would be deleted; delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write a snapshot of the catalog and delete the log files every device has applied.
    Compact,
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Files or folders (folders are walked for audio files).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Serialize)]
struct StatusView {
    connected: bool,
    #[serde(flatten)]
    status: Option<LockerStatus>,
}

pub fn run(loft: &Loft, out: &Output, command: LockerCommand) -> Result<(), CliError> {
    match command {
        LockerCommand::Connect { url, login, encrypt } => {
            let credentials = login.map(|login| credentials_for(&url, login)).transpose()?;
            let keying = LockerKeying {
                create_with: encrypt.then(|| new_passphrase("LOFT_LOCKER_PASSPHRASE")).transpose()?,
                passphrase: None,
            };
            let mut status = loft.connect_locker_with(&url, credentials, keying)?;
            if status.encryption.encrypted && !status.encryption.unlocked && std::io::stdin().is_terminal() {
                status = loft.unlock_locker(LockerSecret::passphrase(ask("Passphrase of this locker: ")?))?;
            }
            let recovery_key = if encrypt { Some(loft.locker_recovery_key()?) } else { None };
            #[derive(Serialize)]
            struct Connected {
                #[serde(flatten)]
                status: LockerStatus,
                recovery_key: Option<String>,
            }
            out.emit(&Connected { status, recovery_key }, |done| {
                let mut text = format!("connected {}\n{}", done.status.url, render_status(&done.status));
                if let Some(key) = &done.recovery_key {
                    text.push_str(&recovery_note(key));
                }
                text
            });
        }
        LockerCommand::Unlock { recovery_key } => {
            let secret = if recovery_key { recovery_secret()? } else { current_passphrase()? };
            let status = loft.unlock_locker(secret)?;
            out.emit(&status, |status| format!("unlocked {}\n{}", status.url, render_status(status)));
        }
        LockerCommand::Encrypt { without } => {
            let encrypted = loft.locker_status()?.is_some_and(|status| status.encryption.encrypted);
            let passphrase = if encrypted { None } else { Some(new_passphrase("LOFT_LOCKER_PASSPHRASE")?) };
            let progress: Arc<loft_core::locker_types::EncryptProgress> = Arc::new(|done, total| {
                let _ = writeln!(std::io::stderr(), "encrypting: {done}/{total} files");
            });
            let report = loft.encrypt_locker(passphrase, without, Some(progress))?;
            out.emit(&report, render_encrypt);
            if !report.damaged.is_empty() {
                return Err(CliError::Failed(
                    "some files in the locker are damaged and were not encrypted (see above)".to_owned(),
                ));
            }
        }
        LockerCommand::Passphrase { recovery_key } => {
            let current = if recovery_key { recovery_secret()? } else { current_passphrase()? };
            let new = new_passphrase("LOFT_LOCKER_NEW_PASSPHRASE")?;
            loft.change_locker_passphrase(current, &new)?;
            out.emit(&serde_json::json!({"changed": true}), |_| {
                "the passphrase is changed; other devices keep working, and new ones unlock with it"
                    .to_owned()
            });
        }
        LockerCommand::RecoveryKey => {
            let key = loft.locker_recovery_key()?;
            out.emit(&serde_json::json!({"recovery_key": key}), |_| recovery_note(&key));
        }
        LockerCommand::Test { url, login } => {
            let credentials = login.map(|login| credentials_for(&url, login)).transpose()?;
            let check = loft.test_locker_connection(&url, credentials)?;
            out.emit(&check, |check| {
                if check.ok {
                    check.message.clone()
                } else {
                    format!("{} failed: {}", check.step, check.message)
                }
            });
            if !check.ok {
                return Err(CliError::Failed(format!(
                    "the connection test failed at the {} step",
                    check.step
                )));
            }
        }
        LockerCommand::Disconnect => {
            let url = loft.settings().locker_url;
            let removed = loft.disconnect_locker()?;
            #[derive(Serialize)]
            struct Disconnected {
                url: Option<String>,
                tracks_removed: u64,
            }
            out.emit(&Disconnected { url, tracks_removed: removed }, |done| match &done.url {
                Some(url) => format!(
                    "disconnected {url} ({} tracks only in the locker left the library)",
                    done.tracks_removed
                ),
                None => "no locker was connected".to_owned(),
            });
        }
        LockerCommand::Status => {
            let status = loft.locker_status()?;
            out.emit(&StatusView { connected: status.is_some(), status }, |view| match &view.status {
                Some(status) => render_status(status),
                None => "no locker connected; connect one with `loft locker connect URL`".to_owned(),
            });
        }
        LockerCommand::Quota { size } => {
            let bytes = parse_size(&size).map_err(CoreError::from)?;
            let status = loft.set_locker_quota(bytes)?;
            out.emit(&status, |status| {
                format!(
                    "the locker's quota is now {} ({} used)",
                    format_size(status.quota_bytes),
                    format_size(status.usage_bytes)
                )
            });
        }
        LockerCommand::Check => {
            let progress: Arc<loft_core::locker_types::CheckProgress> = Arc::new(|done, total, bytes| {
                let _ = writeln!(
                    std::io::stderr(),
                    "checking: {done}/{total} blobs, {} read",
                    format_size(bytes)
                );
            });
            let report = loft.check_locker(Some(progress))?;
            out.emit(&report, render_check);
            if report.has_damage() {
                return Err(CliError::Failed("the locker check found damage (see above)".to_owned()));
            }
        }
        LockerCommand::Gc { grace, dry_run } => {
            let grace = parse_duration(&grace)?;
            let report = loft.collect_locker_garbage(GcOptions { grace, dry_run })?;
            out.emit(&report, render_gc);
            if let Some(reason) = &report.refused {
                return Err(CliError::Failed(format!("garbage collection did not run: {reason}")));
            }
        }
        LockerCommand::Compact => {
            loft.compact_locker()?;
            out.emit(&serde_json::json!({"compacted": true}), |_| {
                "wrote a snapshot and compacted the logs".to_owned()
            });
        }
        LockerCommand::Rm { track } => {
            let track_id = library_track_id(loft, &track)?;
            let applied = loft.remove_from_locker(track_id)?;
            out.emit(&applied, |applied| {
                if applied.removed > 0 {
                    format!("removed track {track_id} from the locker and the library (no local copy)")
                } else {
                    format!("removed track {track_id} from the locker; its local file stays")
                }
            });
        }
    }
    Ok(())
}

/// Credentials for `url` with `login` and the secret on standard input's first line.
fn credentials_for(url: &str, login: String) -> Result<Credentials, CliError> {
    let mut secret = String::new();
    std::io::stdin()
        .read_line(&mut secret)
        .map_err(|error| CliError::Usage(format!("cannot read the secret from standard input: {error}")))?;
    let secret = secret.trim_end_matches(['\r', '\n']).to_owned();
    match LockerLocation::parse(url).map_err(CoreError::from)? {
        LockerLocation::S3 { .. } => Ok(Credentials::S3 { access_key_id: login, secret_access_key: secret }),
        LockerLocation::WebDav { .. } => Ok(Credentials::WebDav { user: login, password: secret }),
        LockerLocation::Folder { .. } => {
            Err(CliError::Usage("a folder locker needs no login; leave out --login".to_owned()))
        }
    }
}

/// A line from the terminal without echo, or from standard input when it is not a terminal.
fn ask(prompt: &str) -> Result<String, CliError> {
    let read = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line.trim_end_matches(['\r', '\n']).to_owned())
    };
    read.map_err(|error| CliError::Usage(format!("cannot read the passphrase: {error}")))
}

/// The passphrase of an encrypted locker: `LOFT_LOCKER_PASSPHRASE`, else asked for.
fn current_passphrase() -> Result<LockerSecret, CliError> {
    match std::env::var("LOFT_LOCKER_PASSPHRASE") {
        Ok(passphrase) if !passphrase.is_empty() => Ok(LockerSecret::passphrase(passphrase)),
        _ => Ok(LockerSecret::passphrase(ask("Passphrase: ")?)),
    }
}

fn recovery_secret() -> Result<LockerSecret, CliError> {
    let text = match std::env::var("LOFT_LOCKER_RECOVERY_KEY") {
        Ok(text) if !text.is_empty() => text,
        _ => ask("Recovery key: ")?,
    };
    Ok(LockerSecret::RecoveryKey(
        loft_core::locker_types::RecoveryKey::parse(&text).map_err(CoreError::from)?,
    ))
}

/// A new passphrase: from `variable`, else asked for twice.
fn new_passphrase(variable: &str) -> Result<String, CliError> {
    let passphrase = match std::env::var(variable) {
        Ok(passphrase) if !passphrase.is_empty() => passphrase,
        _ => {
            let first = ask("New passphrase: ")?;
            if std::io::stdin().is_terminal() && ask("The same again: ")? != first {
                return Err(CliError::Usage("the two passphrases differ; nothing was changed".to_owned()));
            }
            first
        }
    };
    loft_core::locker_types::check_new_passphrase(&passphrase).map_err(CoreError::from)?;
    Ok(passphrase)
}

fn recovery_note(key: &str) -> String {
    format!(
        "recovery key: {key}\nwrite it down and keep it apart from this computer: it unlocks the locker if the \
         passphrase is forgotten, and nobody else can\n"
    )
}

fn render_encrypt(report: &EncryptReport) -> String {
    let mut text = String::new();
    if let Some(key) = &report.recovery_key {
        text.push_str("the locker is now encrypted for every new write\n");
        text.push_str(&recovery_note(key));
    }
    text.push_str(&format!(
        "encrypted {} of {} files already in the locker ({}), and {} catalog files\n",
        report.blobs_sealed,
        report.blobs_total,
        format_size(report.bytes_sealed),
        report.catalog_files_sealed
    ));
    for damaged in &report.damaged {
        text.push_str(&format!(
            "damaged, not encrypted: track {damaged}; upload its file again or remove it, then run this again\n"
        ));
    }
    if report.finished {
        text.push_str(&format!(
            "finished: nothing in the locker is readable without the key any more ({} plaintext objects deleted)\n",
            report.plaintext_deleted
        ));
    } else if !report.waiting_for.is_empty() {
        text.push_str(&format!(
            "waiting for {} to unlock the locker; the plaintext stays until they have (or run this again \
             with --without DEVICE)\n",
            report.waiting_for.join(", ")
        ));
    }
    text
}

/// The library track a user named by its number or its SHA-256.
fn library_track_id(loft: &Loft, given: &str) -> Result<i64, CliError> {
    if let Ok(id) = given.parse::<i64>() {
        return Ok(id);
    }
    let is_hash = given.len() == 64 && given.bytes().all(|byte| byte.is_ascii_hexdigit());
    if !is_hash {
        return Err(CliError::Usage(format!(
            "'{given}' is not a track id; give the number `loft tracks --json` shows, or a SHA-256"
        )));
    }
    loft.library()
        .track_id_for_sha256(given)
        .map_err(CoreError::from)?
        .ok_or_else(|| CliError::Usage(format!("no track in the library has the SHA-256 {given}")))
}

/// `loft upload PATH...`: progress on stderr, the summary on stdout. Fails (after the summary)
/// when any file failed.
pub fn upload(loft: &Loft, out: &Output, args: UploadArgs) -> Result<(), CliError> {
    let report = loft.upload(&args.paths)?;
    out.emit(&report, render_upload);
    match report.failed.len() {
        0 => Ok(()),
        failed => Err(CliError::Usage(format!(
            "{failed} of {} files could not be uploaded",
            failed + report.uploaded.len() + report.duplicates.len()
        ))),
    }
}

/// `loft sync`: pulls every device's changes into the library.
pub fn sync(loft: &Loft, out: &Output) -> Result<(), CliError> {
    let summary = loft.sync_locker()?;
    out.emit(&summary, render_sync);
    Ok(())
}

fn render_status(status: &LockerStatus) -> String {
    let percent = if status.quota_bytes == 0 {
        100.0
    } else {
        status.usage_bytes as f64 * 100.0 / status.quota_bytes as f64
    };
    let mut text = format!(
        "locker: {}\nusage: {} of {} ({percent:.1}%)\ntracks: {}\nplaylists: {}\n",
        status.url,
        format_size(status.usage_bytes),
        format_size(status.quota_bytes),
        status.tracks,
        status.playlists,
    );
    if let Some(backend) = &status.backend_quota {
        let part = |bytes: Option<u64>| bytes.map_or_else(|| "unknown".to_owned(), format_size);
        text.push_str(&format!(
            "the server reports: {} used, {} available\n",
            part(backend.used_bytes),
            part(backend.available_bytes)
        ));
    }
    text.push_str(&format!("devices: {}\n", status.devices.len()));
    for device in &status.devices {
        let this = if device.device == status.device { " (this one)" } else { "" };
        text.push_str(&format!("  {}{this}: last synced {}\n", device.device, ago(device.last_sync_ms)));
    }
    text.push_str(&format!(
        "last sync here: {}\n",
        status.last_sync_ms.map_or_else(|| "never".to_owned(), ago)
    ));
    match status.pending_changes {
        0 => {}
        1 => text.push_str("1 change waiting to sync\n"),
        n => text.push_str(&format!("{n} changes waiting to sync\n")),
    }
    let encryption = &status.encryption;
    match (encryption.encrypted, encryption.unlocked, encryption.converting) {
        (false, _, _) => text.push_str("encryption: off\n"),
        (true, false, _) => text.push_str("encryption: on, locked here: run `loft locker unlock`\n"),
        (true, true, true) => {
            text.push_str("encryption: on for new writes; converting what is there (`loft locker encrypt`)\n")
        }
        (true, true, false) => text.push_str("encryption: on\n"),
    }
    if !status.reached {
        text.push_str("(the locker cannot be reached: this is what this device knows)\n");
    }
    text
}

fn render_upload(report: &UploadReport) -> String {
    let mut text = format!(
        "uploaded {} files, skipped {} already in the locker, {} failed; {} sent\n",
        report.uploaded.len(),
        report.duplicates.len(),
        report.failed.len(),
        format_size(report.bytes_sent)
    );
    if !report.repaired.is_empty() {
        text.push_str(&format!("repaired {} damaged blobs in the locker\n", report.repaired.len()));
    }
    for failed in &report.failed {
        text.push_str(&format!("failed: {}: {}\n", failed.path.display(), failed.message));
    }
    text
}

fn render_sync(summary: &SyncSummary) -> String {
    let mut text = format!(
        "synced: {} changes applied; {} tracks added, {} changed, {} removed in the library",
        summary.ops_applied, summary.library.added, summary.library.updated, summary.library.removed
    );
    if summary.merged > 0 {
        text.push_str(&format!("; {} local files matched locker tracks", summary.merged));
    }
    if summary.inbox_imported > 0 {
        text.push_str(&format!("; {} files imported from the inbox", summary.inbox_imported));
    }
    text.push('\n');
    for problem in &summary.problems {
        text.push_str(&format!("problem: {problem}\n"));
    }
    text
}

fn render_check(report: &CheckReport) -> String {
    let mut text = format!(
        "checked {} blobs: {} parts, {} read\n",
        report.blobs_checked,
        report.parts_checked,
        format_size(report.bytes_read)
    );
    let (damage, notes): (Vec<_>, Vec<_>) =
        report.findings.iter().partition(|finding| finding.kind.is_damage());
    if damage.is_empty() {
        text.push_str("no damage found\n");
    }
    for finding in damage {
        text.push_str(&format!("damage: {}\n  repair: {}\n", finding.detail, finding.repair));
    }
    for finding in notes {
        text.push_str(&format!("note: {} {}\n  {}\n", finding.id, finding.detail, finding.repair));
    }
    text
}

fn render_gc(report: &GcReport) -> String {
    if let Some(reason) = &report.refused {
        return format!("garbage collection did not run: {reason}\n");
    }
    let verb = if report.dry_run { "would delete" } else { "deleted" };
    let mut text = format!(
        "{verb} {} blobs ({}), {} abandoned parts, {} stale staging objects; {} unreferenced blobs wait out \
         the grace period ({} newly noted)\n",
        report.blobs_deleted.len(),
        format_size(report.bytes_freed),
        report.abandoned_parts_deleted,
        report.staging_deleted,
        report.blobs_waiting,
        report.blobs_marked
    );
    for blob in &report.blobs_deleted {
        text.push_str(&format!("  {blob}\n"));
    }
    text
}

/// A duration as people write it: 7d, 24h, 30m, 90s, or 0.
fn parse_duration(text: &str) -> Result<Duration, CliError> {
    let text = text.trim();
    let invalid =
        || CliError::Usage(format!("'{text}' is not a duration; write it like 7d, 24h, 30m, 90s or 0"));
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number.parse().map_err(|_| invalid())?;
    let seconds = match unit {
        "" if value == 0 => 0,
        "s" => value,
        "m" => value.checked_mul(60).ok_or_else(invalid)?,
        "h" => value.checked_mul(3600).ok_or_else(invalid)?,
        "d" => value.checked_mul(86_400).ok_or_else(invalid)?,
        _ => return Err(invalid()),
    };
    Ok(Duration::from_secs(seconds))
}

/// "12 s ago", "5 min ago", "3 h ago", "2 days ago".
pub(crate) fn ago(when_ms: u64) -> String {
    let now_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64);
    let seconds = now_ms.saturating_sub(when_ms) / 1000;
    match seconds {
        0..60 => format!("{seconds} s ago"),
        60..3600 => format!("{} min ago", seconds / 60),
        3600..86_400 => format!("{} h ago", seconds / 3600),
        _ => format!("{} days ago", seconds / 86_400),
    }
}

/// Prints upload progress on stderr: a line when a file is done and at most twice a second
/// in between, so a pipe gets a readable log and a terminal a live count.
pub struct StderrProgress {
    last: Mutex<Option<(Instant, usize)>>,
}

impl StderrProgress {
    pub fn new() -> Arc<StderrProgress> {
        Arc::new(StderrProgress { last: Mutex::new(None) })
    }
}

impl EventSink for StderrProgress {
    fn emit(&self, event: Event) {
        if let Event::UploadProgress { files_done, files_total, bytes_sent, bytes_total, current } = event {
            let mut last = self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let due = match *last {
                None => true,
                Some((at, done)) => done != files_done || at.elapsed() >= Duration::from_millis(500),
            };
            if !due {
                return;
            }
            *last = Some((Instant::now(), files_done));
            let current = current.map(|path| format!(" {}", path.display())).unwrap_or_default();
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(
                stderr,
                "uploading: {files_done}/{files_total} files, {} of {} sent{current}",
                format_size(bytes_sent),
                format_size(bytes_total)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_bad_ones_are_refused() {
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(7 * 86_400));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        for bad in ["", "7", "1w", "-1d", "99999999999999999999d", "18446744073709551615d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
