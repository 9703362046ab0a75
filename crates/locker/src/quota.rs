//! Sizes as people write them ("5GiB", "500MB", "1KB") and the quota a WebDAV server reports
//! (RFC 4331), which OpenDAL does not expose.

use crate::error::{LockerError, Result};

/// The default quota of a new locker: 5 GiB, Amazon Cloud Drive's free tier in 2011.
pub const DEFAULT_QUOTA: u64 = 5 * 1024 * 1024 * 1024;

/// Parses a size such as `5GiB`, `500MB`, `1KB`, `1.5 GB` or `1024` (bytes). Decimal units
/// (KB, MB, GB, TB) are powers of 1000, binary ones (KiB, MiB, GiB, TiB) powers of 1024.
pub fn parse_size(text: &str) -> Result<u64> {
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let invalid = || {
        LockerError::InvalidInput(format!(
            "'{text}' is not a size; write it like 5GiB, 500MB, 1KB or a number of bytes"
        ))
    };
    let value: f64 = number.parse().map_err(|_| invalid())?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "m" | "mb" => 1000 * 1000,
        "g" | "gb" => 1000 * 1000 * 1000,
        "t" | "tb" => 1000 * 1000 * 1000 * 1000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return Err(invalid()),
    };
    let bytes = value * multiplier as f64;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(invalid());
    }
    Ok(bytes.round() as u64)
}

/// Formats a byte count for people, in binary units with one decimal: `5.0 GiB`, `512 B`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// What the storage itself says about space, where it says anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct BackendQuota {
    pub used_bytes: Option<u64>,
    pub available_bytes: Option<u64>,
}

/// Asks a WebDAV server for `quota-used-bytes` and `quota-available-bytes` (RFC 4331) on the
/// locker's root collection. Returns `None` when the server does not report them.
pub(crate) async fn webdav_quota(
    collection_url: &str,
    user: Option<&str>,
    password: Option<&str>,
) -> Result<Option<BackendQuota>> {
    let body = r#"<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:quota-available-bytes/><D:quota-used-bytes/></D:prop></D:propfind>"#;
    let client = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(b"PROPFIND").expect("PROPFIND is a valid method token");
    let mut request = client
        .request(method, collection_url)
        .header("Depth", "0")
        .header("Content-Type", "application/xml")
        .body(body);
    if let Some(user) = user {
        request = request.basic_auth(user, password);
    }
    let response = request.send().await.map_err(|error| {
        LockerError::Network(format!("asking {collection_url} for its quota failed: {error}"))
    })?;
    if response.status() == reqwest::StatusCode::UNAUTHORIZED
        || response.status() == reqwest::StatusCode::FORBIDDEN
    {
        return Err(LockerError::Credentials(format!(
            "the WebDAV server refused the credentials while asking for its quota ({})",
            response.status()
        )));
    }
    if !response.status().is_success() {
        return Ok(None);
    }
    let text = response
        .text()
        .await
        .map_err(|error| LockerError::Network(format!("reading the quota answer failed: {error}")))?;
    let used = xml_number(&text, "quota-used-bytes");
    let available = xml_number(&text, "quota-available-bytes");
    if used.is_none() && available.is_none() {
        return Ok(None);
    }
    Ok(Some(BackendQuota { used_bytes: used, available_bytes: available }))
}

/// Finds `<prefix:name>123</prefix:name>` whatever namespace prefix the server chose. The
/// answer is a tiny multistatus document, so a scan is enough and avoids an XML dependency.
fn xml_number(xml: &str, name: &str) -> Option<u64> {
    let mut rest = xml;
    while let Some(at) = rest.find(name) {
        let after = &rest[at + name.len()..];
        let preceded_by_tag = rest[..at].ends_with('<') || rest[..at].ends_with(':');
        if preceded_by_tag && let Some(close) = after.find('>') {
            let tag_tail = &after[..close];
            if !tag_tail.ends_with('/') {
                let content = &after[close + 1..];
                let end = content.find('<').unwrap_or(content.len());
                if let Ok(value) = content[..end].trim().parse() {
                    return Some(value);
                }
            }
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_sizes_people_write() {
        assert_eq!(parse_size("5GiB").unwrap(), 5 * 1024 * 1024 * 1024);
        assert_eq!(parse_size("500MB").unwrap(), 500_000_000);
        assert_eq!(parse_size("1KB").unwrap(), 1000);
        assert_eq!(parse_size("1.5 KiB").unwrap(), 1536);
        assert_eq!(parse_size("42").unwrap(), 42);
        assert_eq!(parse_size("5gib").unwrap(), 5 * 1024 * 1024 * 1024);
        for bad in ["", "GiB", "5 parsecs", "-1GB", "1.2.3MB"] {
            let error = parse_size(bad).unwrap_err();
            assert_eq!(error.kind(), "invalid_input", "{bad}");
        }
    }

    #[test]
    fn formats_sizes_in_binary_units() {
        assert_eq!(format_size(512), "512 B");
        assert_eq!(format_size(1536), "1.5 KiB");
        assert_eq!(format_size(DEFAULT_QUOTA), "5.0 GiB");
    }

    #[test]
    fn reads_quota_numbers_whatever_the_prefix() {
        let xml = "<D:multistatus xmlns:D=\"DAV:\"><D:response><D:propstat><D:prop>\
                   <D:quota-available-bytes>1000</D:quota-available-bytes>\
                   <lp1:quota-used-bytes>24</lp1:quota-used-bytes></D:prop></D:propstat></D:response>\
                   </D:multistatus>";
        assert_eq!(xml_number(xml, "quota-available-bytes"), Some(1000));
        assert_eq!(xml_number(xml, "quota-used-bytes"), Some(24));
        assert_eq!(xml_number("<D:prop><D:quota-used-bytes/></D:prop>", "quota-used-bytes"), None);
    }
}
