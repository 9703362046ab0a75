//! The encrypted locker (docs/locker-format.md, "Encryption"): what the storage provider sees
//! is ciphertext under random-looking names, and audio still streams and seeks by range.
//!
//! - [`keys`]: the locker key and how it is wrapped by a passphrase and a recovery key;
//! - [`names`]: logical paths to the names objects are stored under, and back;
//! - [`seal`]: object contents, sealed in 64 KiB chunks that open one at a time.
//!
//! Only the storage layer ([`crate::storage::Storage`]) uses a [`Vault`]; everything above it
//! reads and writes plaintext under logical paths, whether the locker is encrypted or not.

mod keys;
mod names;
mod seal;
#[cfg(test)]
mod vectors;

pub use keys::{EncryptionInfo, LockerSecret, MasterKey, RecoveryKey, check_new_passphrase};
pub(crate) use keys::{LockerFacts, keychain_forget, keychain_load, keychain_store};
pub(crate) use names::stays_plain;

use zeroize::Zeroizing;

/// The keys an unlocked encrypted locker is read and written with.
pub(crate) struct Vault {
    master: MasterKey,
    /// AES-256-SIV's 64-byte key, for names.
    names: Zeroizing<[u8; 64]>,
    /// The key every object's own key is derived from.
    objects: Zeroizing<[u8; 32]>,
    /// The locker's part size: padding never makes a part larger than a full one.
    part_size: u64,
}

impl Vault {
    pub(crate) fn new(master: MasterKey, part_size: u64) -> Vault {
        Vault {
            names: master.derive::<64>("names"),
            objects: master.derive::<32>("objects"),
            part_size,
            master,
        }
    }

    pub(crate) fn master(&self) -> &MasterKey {
        &self.master
    }
}
