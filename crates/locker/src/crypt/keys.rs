//! The locker key, and how a passphrase or a recovery key unwraps it (docs/locker-format.md,
//! "Keys").
//!
//! One random 256-bit key per locker. It never leaves a device in the clear: `locker.json`
//! holds it wrapped twice with XChaCha20-Poly1305 — under a key derived from the passphrase
//! with Argon2id, and under a key derived from the recovery key — and each device keeps the
//! unwrapped key in its OS keychain. Changing the passphrase rewraps the same key, so nothing
//! else in the locker changes.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use data_encoding::{BASE32_NOPAD, BASE64};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{LockerError, Result};

/// The name of the construction, in `locker.json`: a client refuses one it does not know.
pub const SCHEME: &str = "loft-e2e-1";
/// Every label this construction feeds to HKDF, HMAC and the AEADs starts with this.
pub(crate) const LABEL: &str = "loft-locker/v1 ";

/// The Argon2id cost a new locker gets: RFC 9106's second recommendation (64 MiB, 3 passes),
/// with one lane since the derivation runs on one thread anyway.
pub const DEFAULT_KDF_MEMORY_KIB: u32 = 64 * 1024;
pub const DEFAULT_KDF_ITERATIONS: u32 = 3;
/// What a reader accepts from `locker.json` before it spends memory or time on it: a hostile
/// file must not make unlocking take gigabytes or hours.
const MAX_KDF_MEMORY_KIB: u32 = 1024 * 1024;
const MAX_KDF_ITERATIONS: u32 = 64;
const MAX_KDF_PARALLELISM: u32 = 16;
const MIN_KDF_MEMORY_KIB: u32 = 8 * 1024;

const KEY_LEN: usize = 32;
const RECOVERY_LEN: usize = 20;
const KDF_SALT_LEN: usize = 16;
const WRAP_NONCE_LEN: usize = 24;

/// A locker's key. Zeroed when dropped; never printed.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    pub(crate) fn generate() -> Result<MasterKey> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        random(&mut key[..])?;
        Ok(MasterKey(key))
    }

    pub(crate) fn from_bytes(bytes: [u8; KEY_LEN]) -> MasterKey {
        MasterKey(Zeroizing::new(bytes))
    }

    /// The key in base64, for the OS keychain (the only place it is stored unwrapped).
    pub(crate) fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE64.encode(&self.0[..]))
    }

    pub(crate) fn from_base64(text: &str) -> Option<MasterKey> {
        let bytes = Zeroizing::new(BASE64.decode(text.trim().as_bytes()).ok()?);
        let key: [u8; KEY_LEN] = bytes.as_slice().try_into().ok()?;
        Some(MasterKey::from_bytes(key))
    }

    /// A subkey for one purpose: HKDF-SHA256 with no salt, the locker key as input keying
    /// material, and `"loft-locker/v1 " + purpose` as info.
    pub(crate) fn derive<const N: usize>(&self, purpose: &str) -> Zeroizing<[u8; N]> {
        let mut out = Zeroizing::new([0u8; N]);
        let info = format!("{LABEL}{purpose}");
        Hkdf::<Sha256>::new(None, &self.0[..])
            .expand(info.as_bytes(), &mut out[..])
            .expect("HKDF-SHA256 gives up to 8160 bytes; our subkeys are at most 64");
        out
    }

    /// The recovery key: a function of the locker key, so any device holding the key can show
    /// it again, and one that unwraps the key without the passphrase.
    pub fn recovery_key(&self) -> RecoveryKey {
        let derived = self.derive::<RECOVERY_LEN>("recovery key");
        RecoveryKey(derived)
    }
}

/// A recovery key: 160 random-looking bits, written as eight groups of four characters
/// (RFC 4648 base32: `A–Z`, `2–7`), such as `MFRG-GZDF-MZTW-Q2LK-NNWG-23TP-OBYX-E4ZT`.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryKey(Zeroizing<[u8; RECOVERY_LEN]>);

impl std::fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryKey(…)")
    }
}

impl RecoveryKey {
    /// The key as the user writes it down.
    pub fn to_text(&self) -> Zeroizing<String> {
        let plain = Zeroizing::new(BASE32_NOPAD.encode(&self.0[..]));
        let groups: Vec<&str> =
            plain.as_bytes().chunks(4).filter_map(|group| std::str::from_utf8(group).ok()).collect();
        Zeroizing::new(groups.join("-"))
    }

    /// Reads a recovery key as the user typed it back: case, spaces and dashes do not matter.
    pub fn parse(text: &str) -> Result<RecoveryKey> {
        let compact: Zeroizing<String> = Zeroizing::new(
            text.chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .map(|c| c.to_ascii_uppercase())
                .collect(),
        );
        let bytes = Zeroizing::new(BASE32_NOPAD.decode(compact.as_bytes()).map_err(|_| {
            LockerError::WrongPassphrase(
                "That is not a recovery key: it has 32 letters and digits, in groups of four".into(),
            )
        })?);
        let key: [u8; RECOVERY_LEN] = bytes.as_slice().try_into().map_err(|_| {
            LockerError::WrongPassphrase(
                "That is not a recovery key: it has 32 letters and digits, in groups of four".into(),
            )
        })?;
        Ok(RecoveryKey(Zeroizing::new(key)))
    }

    /// The key that wraps the locker key for recovery: HKDF-SHA256 of the recovery key (which
    /// is already uniformly random, so no password hashing is needed).
    pub(crate) fn wrapping_key(&self) -> Zeroizing<[u8; KEY_LEN]> {
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        Hkdf::<Sha256>::new(None, &self.0[..])
            .expand(format!("{LABEL}recovery wrapping key").as_bytes(), &mut out[..])
            .expect("32 bytes is within HKDF's reach");
        out
    }
}

/// How a device proves it may open an encrypted locker.
#[derive(Clone)]
pub enum LockerSecret {
    Passphrase(Zeroizing<String>),
    RecoveryKey(RecoveryKey),
}

impl std::fmt::Debug for LockerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockerSecret::Passphrase(_) => f.write_str("Passphrase(…)"),
            LockerSecret::RecoveryKey(_) => f.write_str("RecoveryKey(…)"),
        }
    }
}

impl LockerSecret {
    pub fn passphrase(text: impl Into<String>) -> LockerSecret {
        LockerSecret::Passphrase(Zeroizing::new(text.into()))
    }

    /// `LOFT_LOCKER_PASSPHRASE`, else `LOFT_LOCKER_RECOVERY_KEY`: for headless use.
    pub fn from_env() -> Option<Result<LockerSecret>> {
        if let Some(passphrase) = std::env::var("LOFT_LOCKER_PASSPHRASE").ok().filter(|text| !text.is_empty())
        {
            return Some(Ok(LockerSecret::passphrase(passphrase)));
        }
        let recovery = std::env::var("LOFT_LOCKER_RECOVERY_KEY").ok().filter(|text| !text.is_empty())?;
        Some(RecoveryKey::parse(&recovery).map(LockerSecret::RecoveryKey))
    }
}

/// A passphrase good enough to protect a locker on someone else's disks.
pub fn check_new_passphrase(passphrase: &str) -> Result<()> {
    if passphrase.chars().count() < 8 {
        return Err(LockerError::InvalidInput(
            "Choose a passphrase of at least 8 characters (several words are best)".into(),
        ));
    }
    Ok(())
}

/// The Argon2id parameters a passphrase is hashed with, stored beside the wrapped key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub algorithm: String,
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// 16 random bytes, base64.
    pub salt: String,
}

impl KdfParams {
    fn new_random() -> Result<KdfParams> {
        let mut salt = [0u8; KDF_SALT_LEN];
        random(&mut salt)?;
        Ok(KdfParams {
            algorithm: "argon2id".into(),
            memory_kib: DEFAULT_KDF_MEMORY_KIB,
            iterations: DEFAULT_KDF_ITERATIONS,
            parallelism: 1,
            salt: BASE64.encode(&salt),
        })
    }

    /// The key that wraps the locker key under this passphrase.
    pub(crate) fn wrapping_key(&self, passphrase: &str) -> Result<Zeroizing<[u8; KEY_LEN]>> {
        let bad = |why: &str| {
            LockerError::Format(format!("locker.json's passphrase settings are not usable: {why}"))
        };
        if self.algorithm != "argon2id" {
            return Err(bad("the key derivation is not argon2id"));
        }
        if !(MIN_KDF_MEMORY_KIB..=MAX_KDF_MEMORY_KIB).contains(&self.memory_kib)
            || !(1..=MAX_KDF_ITERATIONS).contains(&self.iterations)
            || !(1..=MAX_KDF_PARALLELISM).contains(&self.parallelism)
        {
            return Err(bad("its cost is out of range"));
        }
        let salt = BASE64.decode(self.salt.as_bytes()).map_err(|_| bad("the salt is not base64"))?;
        if salt.len() < 8 || salt.len() > 64 {
            return Err(bad("the salt has the wrong length"));
        }
        let params = argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, Some(KEY_LEN))
            .map_err(|_| bad("argon2 refuses its cost"))?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        argon
            .hash_password_into(passphrase.as_bytes(), &salt, &mut out[..])
            .map_err(|error| bad(&format!("argon2 failed: {error}")))?;
        Ok(out)
    }
}

/// The locker key, encrypted with XChaCha20-Poly1305 under a wrapping key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    /// 24 random bytes, base64.
    pub nonce: String,
    /// The 32-byte key and the 16-byte tag, base64.
    pub key: String,
}

impl WrappedKey {
    fn seal(
        wrapping: &[u8; KEY_LEN],
        master: &MasterKey,
        locker_id: &str,
        purpose: &str,
    ) -> Result<WrappedKey> {
        let mut nonce = [0u8; WRAP_NONCE_LEN];
        random(&mut nonce)?;
        WrappedKey::seal_with_nonce(wrapping, master, locker_id, purpose, nonce)
    }

    pub(crate) fn seal_with_nonce(
        wrapping: &[u8; KEY_LEN],
        master: &MasterKey,
        locker_id: &str,
        purpose: &str,
        nonce: [u8; WRAP_NONCE_LEN],
    ) -> Result<WrappedKey> {
        let aad = wrap_aad(locker_id, purpose);
        let sealed = XChaCha20Poly1305::new(wrapping.into())
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: &master.0[..], aad: aad.as_bytes() })
            .map_err(|_| LockerError::InvalidInput("the locker key could not be wrapped".into()))?;
        Ok(WrappedKey { nonce: BASE64.encode(&nonce), key: BASE64.encode(&sealed) })
    }

    /// `None` when the wrapping key is not the one this was sealed with (or the bytes were
    /// changed): the same answer either way, on purpose.
    fn open(&self, wrapping: &[u8; KEY_LEN], locker_id: &str, purpose: &str) -> Option<MasterKey> {
        let nonce = BASE64.decode(self.nonce.as_bytes()).ok()?;
        let sealed = BASE64.decode(self.key.as_bytes()).ok()?;
        if nonce.len() != WRAP_NONCE_LEN || sealed.len() != KEY_LEN + 16 {
            return None;
        }
        let aad = wrap_aad(locker_id, purpose);
        let plain = Zeroizing::new(
            XChaCha20Poly1305::new(wrapping.into())
                .decrypt(XNonce::from_slice(&nonce), Payload { msg: &sealed, aad: aad.as_bytes() })
                .ok()?,
        );
        let key: [u8; KEY_LEN] = plain.as_slice().try_into().ok()?;
        Some(MasterKey::from_bytes(key))
    }
}

fn wrap_aad(locker_id: &str, purpose: &str) -> String {
    format!("{LABEL}{purpose} wrap\n{locker_id}")
}

/// `locker.json`'s `encryption`: everything needed to find and unwrap the key, and no more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptionInfo {
    pub scheme: String,
    pub passphrase_kdf: KdfParams,
    /// The key wrapped under the passphrase's Argon2id hash.
    pub passphrase_key: WrappedKey,
    /// The key wrapped under the recovery key.
    pub recovery_key: WrappedKey,
    /// Set while the locker is being converted from plaintext: until the conversion finishes,
    /// devices still read the plaintext objects of the layout it had (and write only encrypted
    /// ones). When it was started, on the storage's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converting_since_ms: Option<i64>,
    /// HMAC-SHA256, under a subkey of the locker key, of the fields above and locker.json's
    /// fixed ones (see [`EncryptionInfo::mac_input`]), so that someone without the key cannot
    /// change them unnoticed (turn a finished conversion back on, say).
    pub mac: String,
}

/// The fields of `locker.json` the MAC covers besides the `encryption` object.
pub(crate) struct LockerFacts<'a> {
    pub locker_id: &'a str,
    pub part_size: u64,
    pub created_ms: u64,
}

impl EncryptionInfo {
    /// Encryption for a locker: wraps `master` under `passphrase` and under its recovery key.
    pub(crate) fn create(
        master: &MasterKey,
        facts: &LockerFacts<'_>,
        passphrase: &str,
    ) -> Result<EncryptionInfo> {
        let kdf = KdfParams::new_random()?;
        let passphrase_key =
            WrappedKey::seal(&*kdf.wrapping_key(passphrase)?, master, facts.locker_id, "passphrase")?;
        let recovery_key =
            WrappedKey::seal(&master.recovery_key().wrapping_key(), master, facts.locker_id, "recovery")?;
        let mut info = EncryptionInfo {
            scheme: SCHEME.into(),
            passphrase_kdf: kdf,
            passphrase_key,
            recovery_key,
            converting_since_ms: None,
            mac: String::new(),
        };
        info.seal_mac(master, facts);
        Ok(info)
    }

    /// Checks what a reader relies on before it spends anything on unlocking.
    pub(crate) fn check_scheme(&self) -> Result<()> {
        if self.scheme != SCHEME {
            return Err(LockerError::Format(format!(
                "the locker is encrypted with '{}', which this version of Loft does not know; update Loft",
                self.scheme
            )));
        }
        Ok(())
    }

    /// The locker key, from a passphrase or a recovery key. A wrong one is refused with
    /// [`LockerError::WrongPassphrase`].
    pub(crate) fn unlock(&self, facts: &LockerFacts<'_>, secret: &LockerSecret) -> Result<MasterKey> {
        self.check_scheme()?;
        let master = match secret {
            LockerSecret::Passphrase(passphrase) => {
                let wrapping = self.passphrase_kdf.wrapping_key(passphrase)?;
                self.passphrase_key.open(&wrapping, facts.locker_id, "passphrase").ok_or_else(|| {
                    LockerError::WrongPassphrase("That passphrase does not unlock this locker".into())
                })?
            }
            LockerSecret::RecoveryKey(recovery) => {
                self.recovery_key.open(&recovery.wrapping_key(), facts.locker_id, "recovery").ok_or_else(
                    || LockerError::WrongPassphrase("That recovery key does not unlock this locker".into()),
                )?
            }
        };
        self.check_mac(&master, facts)?;
        Ok(master)
    }

    /// Whether `master` is this locker's key (a key kept in the keychain is checked this way).
    pub(crate) fn check_mac(&self, master: &MasterKey, facts: &LockerFacts<'_>) -> Result<()> {
        let expected = data_encoding::HEXLOWER.decode(self.mac.as_bytes()).unwrap_or_default();
        self.mac_state(master, facts).verify_slice(&expected).map_err(|_| {
            LockerError::Integrity(
                "locker.json's encryption settings were changed by someone without the locker's key".into(),
            )
        })
    }

    pub(crate) fn seal_mac(&mut self, master: &MasterKey, facts: &LockerFacts<'_>) {
        let mac = self.mac_state(master, facts);
        self.mac = data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes());
    }

    /// Rewraps the key under a new passphrase (new salt, new nonce); the key stays the same.
    pub(crate) fn change_passphrase(
        &mut self,
        master: &MasterKey,
        facts: &LockerFacts<'_>,
        passphrase: &str,
    ) -> Result<()> {
        let kdf = KdfParams::new_random()?;
        self.passphrase_key =
            WrappedKey::seal(&*kdf.wrapping_key(passphrase)?, master, facts.locker_id, "passphrase")?;
        self.passphrase_kdf = kdf;
        self.seal_mac(master, facts);
        Ok(())
    }

    fn mac_state(&self, master: &MasterKey, facts: &LockerFacts<'_>) -> Hmac<Sha256> {
        let key = master.derive::<32>("locker file mac");
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&key[..]).expect("HMAC takes a key of any length");
        mac.update(self.mac_input(facts).as_bytes());
        mac
    }

    /// What the MAC covers, one `name=value` line each (docs/locker-format.md, "Keys").
    pub(crate) fn mac_input(&self, facts: &LockerFacts<'_>) -> String {
        let kdf = &self.passphrase_kdf;
        format!(
            "{LABEL}locker file\nlocker_id={}\npart_size={}\ncreated_ms={}\nscheme={}\n\
             passphrase_kdf={},{},{},{},{}\npassphrase_key={},{}\nrecovery_key={},{}\nconverting_since_ms={}\n",
            facts.locker_id,
            facts.part_size,
            facts.created_ms,
            self.scheme,
            kdf.algorithm,
            kdf.memory_kib,
            kdf.iterations,
            kdf.parallelism,
            kdf.salt,
            self.passphrase_key.nonce,
            self.passphrase_key.key,
            self.recovery_key.nonce,
            self.recovery_key.key,
            self.converting_since_ms.map_or_else(|| "none".to_owned(), |ms| ms.to_string()),
        )
    }
}

/// Fills `out` from the OS's random source.
pub(crate) fn random(out: &mut [u8]) -> Result<()> {
    getrandom::getrandom(out)
        .map_err(|error| LockerError::InvalidInput(format!("the system's random source failed: {error}")))
}

/// The OS keychain entry that keeps a locker's key on this device (service `loft-locker-key`,
/// account = the locker's id). Never a file.
const KEYCHAIN_SERVICE: &str = "loft-locker-key";

pub(crate) fn keychain_load(locker_id: &str) -> Option<MasterKey> {
    if keychain_disabled() {
        return None;
    }
    let entry = keyring::Entry::new(KEYCHAIN_SERVICE, locker_id).ok()?;
    match entry.get_password() {
        Ok(secret) => MasterKey::from_base64(&Zeroizing::new(secret)),
        Err(keyring::Error::NoEntry) => None,
        Err(error) => {
            tracing::debug!(%error, "the OS keychain could not be read for the locker key");
            None
        }
    }
}

/// Keeps the key in the keychain; where there is none, the key stays in memory only and the
/// next start asks again (it is never written to a file).
pub(crate) fn keychain_store(locker_id: &str, master: &MasterKey) -> bool {
    if keychain_disabled() {
        return false;
    }
    let stored = keyring::Entry::new(KEYCHAIN_SERVICE, locker_id)
        .and_then(|entry| entry.set_password(&master.to_base64()));
    if let Err(error) = &stored {
        tracing::info!(%error, "the OS keychain cannot keep the locker key; it stays in memory only");
    }
    stored.is_ok()
}

pub(crate) fn keychain_forget(locker_id: &str) {
    if keychain_disabled() {
        return;
    }
    if let Ok(entry) = keyring::Entry::new(KEYCHAIN_SERVICE, locker_id) {
        let _ = entry.delete_credential();
    }
}

/// `LOFT_NO_KEYCHAIN=1` keeps the keychain out (tests, and machines where asking it hangs).
fn keychain_disabled() -> bool {
    std::env::var_os("LOFT_NO_KEYCHAIN").is_some_and(|value| value == "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> LockerFacts<'static> {
        LockerFacts { locker_id: "locker-1", part_size: 65_536, created_ms: 1 }
    }

    #[test]
    fn a_passphrase_and_the_recovery_key_unwrap_the_key_and_a_wrong_one_is_refused() {
        let master = MasterKey::generate().unwrap();
        let mut info = EncryptionInfo::create(&master, &facts(), "correct horse battery").unwrap();
        let opened = info.unlock(&facts(), &LockerSecret::passphrase("correct horse battery")).unwrap();
        assert_eq!(opened.0, master.0);
        let wrong = info.unlock(&facts(), &LockerSecret::passphrase("correct horse battery!")).unwrap_err();
        assert_eq!(wrong.kind(), crate::ErrorKind::WrongPassphrase);
        assert_eq!(wrong.to_string(), "That passphrase does not unlock this locker");

        let recovery = RecoveryKey::parse(&master.recovery_key().to_text().to_lowercase()).unwrap();
        let opened = info.unlock(&facts(), &LockerSecret::RecoveryKey(recovery)).unwrap();
        assert_eq!(opened.0, master.0);

        info.change_passphrase(&master, &facts(), "a new passphrase").unwrap();
        assert!(info.unlock(&facts(), &LockerSecret::passphrase("correct horse battery")).is_err());
        assert!(info.unlock(&facts(), &LockerSecret::passphrase("a new passphrase")).is_ok());
    }

    #[test]
    fn the_mac_catches_a_change_made_without_the_key() {
        let master = MasterKey::generate().unwrap();
        let mut info = EncryptionInfo::create(&master, &facts(), "correct horse battery").unwrap();
        info.check_mac(&master, &facts()).unwrap();
        info.converting_since_ms = Some(5);
        assert_eq!(info.check_mac(&master, &facts()).unwrap_err().kind(), crate::ErrorKind::Integrity);
        let other = LockerFacts { part_size: 131_072, ..facts() };
        info.converting_since_ms = None;
        assert!(info.check_mac(&master, &other).is_err());
    }

    #[test]
    fn hostile_kdf_settings_are_refused_before_any_work() {
        let master = MasterKey::generate().unwrap();
        let mut info = EncryptionInfo::create(&master, &facts(), "correct horse battery").unwrap();
        info.passphrase_kdf.memory_kib = u32::MAX;
        let error = info.unlock(&facts(), &LockerSecret::passphrase("correct horse battery")).unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Format);
    }

    #[test]
    fn recovery_keys_read_back_however_they_are_typed() {
        let master = MasterKey::generate().unwrap();
        let text = master.recovery_key().to_text();
        assert_eq!(text.len(), 39, "{}", *text);
        let spaced = text.replace('-', " ").to_lowercase();
        assert!(RecoveryKey::parse(&spaced).unwrap() == master.recovery_key());
        assert_eq!(RecoveryKey::parse("not a key").unwrap_err().kind(), crate::ErrorKind::WrongPassphrase);
    }
}
