//! The test vectors of docs/locker-format.md ("Test vectors"), recomputed from the inputs the
//! document gives: the document is what another client checks itself against, so it is the
//! document that is tested, not a copy of it.

use data_encoding::{BASE64, HEXLOWER};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::keys::{EncryptionInfo, KdfParams, LockerFacts, RecoveryKey, WrappedKey};
use super::{MasterKey, Vault};

const DOC: &str = include_str!("../../../../docs/locker-format.md");
const BEGIN: &str = "<!-- test vectors: begin -->";
const END: &str = "<!-- test vectors: end -->";

fn documented() -> Value {
    let start = DOC.find(BEGIN).expect("the format document has its test vectors") + BEGIN.len();
    let end = DOC[start..].find(END).expect("the test vectors end") + start;
    let block = DOC[start..end].trim();
    let json = block.trim_start_matches("```json").trim_end_matches("```").trim();
    serde_json::from_str(json).expect("the test vectors are JSON")
}

fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field].as_str().unwrap_or_else(|| panic!("the vectors have no string '{field}'"))
}

fn bytes32(hex: &str) -> [u8; 32] {
    HEXLOWER.decode(hex.as_bytes()).unwrap().try_into().unwrap()
}

/// The part plaintext of the vectors: `(i * 31 + 7) mod 251` for byte `i`.
fn part_plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 31 + 7) % 251) as u8).collect()
}

/// Everything the vectors state, computed from their inputs.
fn compute(inputs: &Value) -> Value {
    let master = MasterKey::from_bytes(bytes32(text(inputs, "locker_key")));
    let locker_id = text(inputs, "locker_id");
    let part_size = inputs["part_size"].as_u64().unwrap();
    let created_ms = inputs["created_ms"].as_u64().unwrap();
    let facts = LockerFacts { locker_id, part_size, created_ms };
    let vault = Vault::new(master.clone(), part_size);

    let kdf: KdfParams = serde_json::from_value(inputs["passphrase_kdf"].clone()).unwrap();
    let passphrase_wrapping = kdf.wrapping_key(text(inputs, "passphrase")).unwrap();
    let nonce = |field: &str| -> [u8; 24] {
        BASE64.decode(text(inputs, field).as_bytes()).unwrap().try_into().unwrap()
    };
    let passphrase_key = WrappedKey::seal_with_nonce(
        &passphrase_wrapping,
        &master,
        locker_id,
        "passphrase",
        nonce("passphrase_nonce"),
    )
    .unwrap();
    let recovery = master.recovery_key();
    let recovery_key = WrappedKey::seal_with_nonce(
        &recovery.wrapping_key(),
        &master,
        locker_id,
        "recovery",
        nonce("recovery_nonce"),
    )
    .unwrap();
    let mut info = EncryptionInfo {
        scheme: super::keys::SCHEME.into(),
        passphrase_kdf: kdf,
        passphrase_key,
        recovery_key,
        converting_since_ms: None,
        mac: String::new(),
    };
    info.seal_mac(&master, &facts);

    let names: Vec<Value> = inputs["logical_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|logical| {
            let logical = logical.as_str().unwrap();
            json!({"logical": logical, "physical": vault.physical(logical).unwrap().unwrap()})
        })
        .collect();

    let object_path = text(inputs, "object_path");
    let salt: [u8; 32] = bytes32(text(inputs, "object_salt"));
    let sealed_object =
        vault.seal_object_with_salt(object_path, text(inputs, "object_plaintext").as_bytes(), salt);

    let part_path = text(inputs, "part_path");
    let part = part_plaintext(inputs["part_len"].as_u64().unwrap() as usize);
    let sealed_part = vault.seal_part(part_path, &part);

    json!({
        "subkey_names": HEXLOWER.encode(&vault.names[..]),
        "subkey_objects": HEXLOWER.encode(&vault.objects[..]),
        "recovery_key": recovery.to_text().as_str(),
        "passphrase_wrapping_key": HEXLOWER.encode(&passphrase_wrapping[..]),
        "encryption": serde_json::to_value(&info).unwrap(),
        "names": names,
        "sealed_object": HEXLOWER.encode(&sealed_object),
        "part_sha256": HEXLOWER.encode(&Sha256::digest(&part)),
        "sealed_part_len": sealed_part.len(),
        "sealed_part_first_64": HEXLOWER.encode(&sealed_part[..64]),
        "sealed_part_sha256": HEXLOWER.encode(&Sha256::digest(&sealed_part)),
    })
}

#[test]
fn the_documented_vectors_hold() {
    let documented = documented();
    let computed = compute(&documented["inputs"]);
    assert_eq!(
        documented["outputs"],
        computed,
        "docs/locker-format.md's test vectors differ from what this code computes; computed:\n{}",
        serde_json::to_string_pretty(&computed).unwrap()
    );
    // And the documented outputs open again: the wrapped keys, the object, the names.
    let inputs = &documented["inputs"];
    let facts = LockerFacts {
        locker_id: text(inputs, "locker_id"),
        part_size: inputs["part_size"].as_u64().unwrap(),
        created_ms: inputs["created_ms"].as_u64().unwrap(),
    };
    let info: EncryptionInfo = serde_json::from_value(documented["outputs"]["encryption"].clone()).unwrap();
    let secret = super::LockerSecret::passphrase(text(inputs, "passphrase"));
    let master = info.unlock(&facts, &secret).unwrap();
    let recovery = RecoveryKey::parse(text(&documented["outputs"], "recovery_key")).unwrap();
    assert!(info.unlock(&facts, &super::LockerSecret::RecoveryKey(recovery)).is_ok());
    let vault = Vault::new(master, facts.part_size);
    let sealed = HEXLOWER.decode(text(&documented["outputs"], "sealed_object").as_bytes()).unwrap();
    assert_eq!(
        vault.open_object(text(inputs, "object_path"), &sealed).unwrap(),
        text(inputs, "object_plaintext").as_bytes()
    );
    for name in documented["outputs"]["names"].as_array().unwrap() {
        assert_eq!(vault.logical(text(name, "physical")).as_deref(), Some(text(name, "logical")));
    }
}
