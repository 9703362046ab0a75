//! Rule playlists ("smart playlists"): conditions on a track's fields, joined by "all" or
//! "any", with a sort and a limit, evaluated by SQL over the whole index — built-in ones (Most
//! played, Recently played, Recently added, Loved, Never played) and the user's, which the
//! locker's catalog carries to every device as JSON (the shape of [`SmartRule`]).
//!
//! A rule also reads from text, as the command line takes it:
//! `genre is Jazz and rating >= 4 and last played not in last 90 days sort by plays desc limit 50`.

use rusqlite::params_from_iter;
use rusqlite::types::Value as SqlValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{LibraryError, Result};
use crate::query::{TRACK_COLUMNS, track_from_row};
use crate::{Library, Track};

/// The most tracks a rule playlist lists when its rule sets no limit.
pub const SMART_LIMIT_MAX: u32 = 100_000;
/// The most conditions one rule may have.
const MAX_CONDITIONS: usize = 32;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct SmartRule {
    /// Whether a track must meet every condition, or any one.
    #[serde(default, rename = "match")]
    pub match_: Match,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<RuleSort>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Match {
    #[default]
    All,
    Any,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct Condition {
    pub field: RuleField,
    pub op: RuleOp,
    /// Text for text fields, a number for numbers (seconds for `duration`, days for the
    /// `in_last_days` operators), `true`/`false` for `loved`.
    #[serde(default)]
    #[cfg_attr(feature = "ipc-types", specta(type = ConditionValue))]
    pub value: Value,
}

/// The shape a condition's value has across the desktop app's IPC: the catalog keeps any JSON,
/// but a rule this Loft can run has one of these (see [`Condition::value`]).
#[cfg(feature = "ipc-types")]
#[derive(Serialize, specta::Type)]
#[serde(untagged)]
pub enum ConditionValue {
    Text(String),
    Number(f64),
    Flag(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct RuleSort {
    pub field: RuleField,
    #[serde(default)]
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RuleField {
    Title,
    Artist,
    Album,
    AlbumArtist,
    Genre,
    Composer,
    Format,
    Year,
    /// In seconds.
    Duration,
    PlayCount,
    Rating,
    Loved,
    LastPlayed,
    Added,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RuleOp {
    Is,
    IsNot,
    Contains,
    NotContains,
    StartsWith,
    Gt,
    Ge,
    Lt,
    Le,
    InLastDays,
    NotInLastDays,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Number,
    Bool,
    Date,
}

impl RuleField {
    const NAMES: &[(&'static str, RuleField)] = &[
        ("album artist", RuleField::AlbumArtist),
        ("album_artist", RuleField::AlbumArtist),
        ("play count", RuleField::PlayCount),
        ("play_count", RuleField::PlayCount),
        ("plays", RuleField::PlayCount),
        ("last played", RuleField::LastPlayed),
        ("last_played", RuleField::LastPlayed),
        ("played", RuleField::LastPlayed),
        ("title", RuleField::Title),
        ("artist", RuleField::Artist),
        ("album", RuleField::Album),
        ("genre", RuleField::Genre),
        ("composer", RuleField::Composer),
        ("format", RuleField::Format),
        ("year", RuleField::Year),
        ("duration", RuleField::Duration),
        ("length", RuleField::Duration),
        ("rating", RuleField::Rating),
        ("stars", RuleField::Rating),
        ("loved", RuleField::Loved),
        ("added", RuleField::Added),
    ];

    fn kind(self) -> Kind {
        match self {
            RuleField::Title
            | RuleField::Artist
            | RuleField::Album
            | RuleField::AlbumArtist
            | RuleField::Genre
            | RuleField::Composer
            | RuleField::Format => Kind::Text,
            RuleField::Year | RuleField::Duration | RuleField::PlayCount | RuleField::Rating => Kind::Number,
            RuleField::Loved => Kind::Bool,
            RuleField::LastPlayed | RuleField::Added => Kind::Date,
        }
    }

    /// The column a condition reads.
    fn column(self) -> &'static str {
        match self {
            RuleField::Title => "t.title",
            RuleField::Artist => "t.artist",
            RuleField::Album => "t.album",
            RuleField::AlbumArtist => "t.group_artist",
            RuleField::Genre => "t.genre",
            RuleField::Composer => "t.composer",
            RuleField::Format => "t.format",
            RuleField::Year => "t.year",
            RuleField::Duration => "t.duration_ms",
            RuleField::PlayCount => "t.play_count",
            RuleField::Rating => "t.rating",
            RuleField::Loved => "t.loved",
            RuleField::LastPlayed => "t.last_played_ms",
            RuleField::Added => "t.added_at",
        }
    }

    /// The ORDER BY terms a sort by this field uses (sort keys for text).
    fn order(self) -> &'static [&'static str] {
        match self {
            RuleField::Title => &["t.sort_title"],
            RuleField::Artist => &["t.sort_artist", "t.sort_album", "t.disc_no", "t.track_no"],
            RuleField::Album => &["t.sort_album", "t.disc_no", "t.track_no"],
            RuleField::AlbumArtist => &["t.sort_group_artist", "t.sort_album", "t.disc_no", "t.track_no"],
            RuleField::Genre => &["t.sort_genre"],
            RuleField::Composer => &["t.composer"],
            RuleField::Format => &["t.format"],
            RuleField::Year => &["t.year"],
            RuleField::Duration => &["t.duration_ms"],
            RuleField::PlayCount => &["t.play_count"],
            RuleField::Rating => &["t.rating"],
            RuleField::Loved => &["t.loved"],
            RuleField::LastPlayed => &["t.last_played_ms"],
            RuleField::Added => &["t.added_at"],
        }
    }
}

/// How many never-played songs the built-in list holds.
pub const NEVER_PLAYED_LIMIT: u32 = 500;

/// The built-in rule playlists: an id (not a catalog id), a name, a rule.
pub fn builtin_smart_playlists() -> Vec<(&'static str, &'static str, SmartRule)> {
    let sort = |field, descending| Some(RuleSort { field, descending });
    let rule =
        |conditions: Vec<Condition>, sort, limit| SmartRule { match_: Match::All, conditions, sort, limit };
    let condition = |field, op, value: Value| Condition { field, op, value };
    vec![
        (
            "builtin-most-played",
            "Most played",
            rule(
                vec![condition(RuleField::PlayCount, RuleOp::Gt, Value::from(0))],
                sort(RuleField::PlayCount, true),
                Some(100),
            ),
        ),
        (
            "builtin-recently-played",
            "Recently played",
            rule(
                vec![condition(RuleField::PlayCount, RuleOp::Gt, Value::from(0))],
                sort(RuleField::LastPlayed, true),
                Some(100),
            ),
        ),
        ("builtin-recently-added", "Recently added", rule(vec![], sort(RuleField::Added, true), Some(100))),
        (
            "builtin-loved",
            "Loved",
            rule(
                vec![condition(RuleField::Loved, RuleOp::Is, Value::Bool(true))],
                sort(RuleField::Artist, false),
                None,
            ),
        ),
        (
            "builtin-never-played",
            "Never played",
            // The newest first, and a bounded list like the other built-ins: in a large library
            // most songs were never played, and a list of 80,000 is no guide to what to try next.
            rule(
                vec![condition(RuleField::PlayCount, RuleOp::Is, Value::from(0))],
                sort(RuleField::Added, true),
                Some(NEVER_PLAYED_LIMIT),
            ),
        ),
    ]
}

impl SmartRule {
    /// Reads a rule from the catalog's JSON, checking it as [`SmartRule::check`] does.
    pub fn from_json(value: &Value) -> Result<SmartRule> {
        let rule: SmartRule = serde_json::from_value(value.clone())
            .map_err(|error| LibraryError::InvalidRule(format!("this rule cannot be read: {error}")))?;
        rule.check()?;
        Ok(rule)
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Whether each condition's operator and value suit its field.
    pub fn check(&self) -> Result<()> {
        if self.conditions.len() > MAX_CONDITIONS {
            return Err(LibraryError::InvalidRule(format!("a rule has at most {MAX_CONDITIONS} conditions")));
        }
        for condition in &self.conditions {
            condition.sql(0)?;
        }
        if self.limit.is_some_and(|limit| limit == 0 || limit > SMART_LIMIT_MAX) {
            return Err(LibraryError::InvalidRule(format!("a limit is 1 to {SMART_LIMIT_MAX}")));
        }
        Ok(())
    }

    /// Reads a rule from text: conditions (`field operator value`) joined by `and` or by `or`,
    /// then optionally `sort by FIELD [asc|desc]` and `limit N`.
    pub fn parse(text: &str) -> Result<SmartRule> {
        let invalid = |why: String| LibraryError::InvalidRule(why);
        // ASCII lowercasing keeps every byte where it was, so the values can be cut from the
        // text as typed.
        let lower = text.to_ascii_lowercase();
        let mut rest = lower.trim();
        let mut original = text.trim();
        let mut rule = SmartRule { match_: Match::All, conditions: Vec::new(), sort: None, limit: None };
        // The tail: `limit N`, then `sort by F [asc|desc]`, read from the end.
        if let Some(at) =
            rest.rfind(" limit ").map(|at| at + 1).or_else(|| rest.starts_with("limit ").then_some(0))
        {
            let number = rest[at + "limit ".len()..].trim();
            let limit =
                number.parse().map_err(|_| invalid(format!("'{number}' after 'limit' is not a number")))?;
            rule.limit = Some(limit);
            rest = rest[..at].trim_end();
            original = original[..at].trim_end();
        }
        if let Some(at) = rest.rfind("sort by ") {
            let mut words: Vec<&str> = rest[at + "sort by ".len()..].split_whitespace().collect();
            let descending = match words.last() {
                Some(&"desc") | Some(&"descending") => {
                    words.pop();
                    true
                }
                Some(&"asc") | Some(&"ascending") => {
                    words.pop();
                    false
                }
                _ => false,
            };
            let name = words.join(" ");
            let field =
                field_named(&name).ok_or_else(|| invalid(format!("'{name}' is not a field to sort by")))?;
            rule.sort = Some(RuleSort { field, descending });
            rest = rest[..at].trim_end();
            original = original[..at].trim_end();
        }
        if rest.is_empty() {
            rule.check()?;
            return Ok(rule);
        }
        let (joiner, match_) = match (rest.contains(" and "), rest.contains(" or ")) {
            (true, true) => {
                return Err(invalid("a rule joins its conditions with 'and' or with 'or', not both".into()));
            }
            (false, true) => (" or ", Match::Any),
            _ => (" and ", Match::All),
        };
        rule.match_ = match_;
        let mut start = 0;
        for piece in rest.split(joiner) {
            let length = piece.len();
            let cased = &original[start..start + length];
            start += length + joiner.len();
            rule.conditions.push(parse_condition(piece.trim(), cased.trim())?);
        }
        rule.check()?;
        Ok(rule)
    }
}

fn field_named(name: &str) -> Option<RuleField> {
    RuleField::NAMES.iter().find(|(known, _)| *known == name).map(|(_, field)| *field)
}

/// One `field operator value`, `lower` being the lowercased text and `cased` the same text as
/// typed (for the value).
fn parse_condition(lower: &str, cased: &str) -> Result<Condition> {
    let invalid = |why: String| LibraryError::InvalidRule(why);
    let (field, after) = RuleField::NAMES
        .iter()
        .find(|(name, _)| lower == *name || lower.starts_with(&format!("{name} ")))
        .map(|(name, field)| (*field, name.len()))
        .ok_or_else(|| invalid(format!("'{lower}' does not start with a field (title, artist, genre, year, rating, plays, loved, last played, added …)")))?;
    let rest_lower = lower[after..].trim_start();
    let rest_cased = cased[cased.len() - rest_lower.len()..].trim_start();
    if rest_lower.is_empty() {
        // `loved` alone.
        return match field {
            RuleField::Loved => Ok(Condition { field, op: RuleOp::Is, value: Value::Bool(true) }),
            _ => Err(invalid(format!("'{lower}' has no operator"))),
        };
    }
    const OPERATORS: &[(&str, RuleOp)] = &[
        ("not in the last ", RuleOp::NotInLastDays),
        ("not in last ", RuleOp::NotInLastDays),
        ("in the last ", RuleOp::InLastDays),
        ("in last ", RuleOp::InLastDays),
        ("does not contain ", RuleOp::NotContains),
        ("not contains ", RuleOp::NotContains),
        ("contains ", RuleOp::Contains),
        ("starts with ", RuleOp::StartsWith),
        ("is not ", RuleOp::IsNot),
        ("is ", RuleOp::Is),
        (">= ", RuleOp::Ge),
        ("<= ", RuleOp::Le),
        ("!= ", RuleOp::IsNot),
        ("> ", RuleOp::Gt),
        ("< ", RuleOp::Lt),
        ("= ", RuleOp::Is),
    ];
    let (op, length) = OPERATORS
        .iter()
        .find(|(name, _)| rest_lower.starts_with(name))
        .map(|(name, op)| (*op, name.len()))
        .ok_or_else(|| invalid(format!("'{lower}' has no operator this Loft knows (is, is not, contains, >, >=, <, <=, in last N days …)")))?;
    let mut value_text = rest_cased[length..].trim();
    if matches!(op, RuleOp::InLastDays | RuleOp::NotInLastDays) {
        value_text = value_text.trim_end_matches("days").trim_end_matches("day").trim();
    }
    let value_text = value_text.trim_matches('"');
    let value = match (field.kind(), op) {
        (Kind::Text, _) => Value::from(value_text),
        (Kind::Bool, _) => match value_text.to_lowercase().as_str() {
            "true" | "yes" => Value::Bool(true),
            "false" | "no" => Value::Bool(false),
            other => return Err(invalid(format!("'{other}' is not yes or no"))),
        },
        _ => Value::from(
            value_text
                .parse::<i64>()
                .map_err(|_| invalid(format!("'{value_text}' is not a whole number")))?,
        ),
    };
    Ok(Condition { field, op, value })
}

impl Condition {
    /// The SQL of this condition, its parameters numbered from `first + 1`, and the parameters;
    /// an error when the operator or the value does not suit the field.
    fn sql(&self, now_ms: i64) -> Result<(String, Vec<SqlValue>)> {
        let invalid = || {
            LibraryError::InvalidRule(format!(
                "{:?} {:?} {} does not make sense for that field",
                self.field, self.op, self.value
            ))
        };
        let column = self.field.column();
        let text = || self.value.as_str().map(str::to_owned).ok_or_else(invalid);
        let number = || self.value.as_i64().ok_or_else(invalid);
        let like = |pattern: String| -> String {
            pattern.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
        };
        Ok(match (self.field.kind(), self.op) {
            (Kind::Text, RuleOp::Is) => {
                (format!("{column} = ? COLLATE NOCASE"), vec![SqlValue::Text(text()?)])
            }
            (Kind::Text, RuleOp::IsNot) => {
                (format!("{column} != ? COLLATE NOCASE"), vec![SqlValue::Text(text()?)])
            }
            (Kind::Text, RuleOp::Contains) => {
                (format!("{column} LIKE ? ESCAPE '\\'"), vec![SqlValue::Text(format!("%{}%", like(text()?)))])
            }
            (Kind::Text, RuleOp::NotContains) => (
                format!("{column} NOT LIKE ? ESCAPE '\\'"),
                vec![SqlValue::Text(format!("%{}%", like(text()?)))],
            ),
            (Kind::Text, RuleOp::StartsWith) => {
                (format!("{column} LIKE ? ESCAPE '\\'"), vec![SqlValue::Text(format!("{}%", like(text()?)))])
            }
            (
                Kind::Number,
                op @ (RuleOp::Is | RuleOp::IsNot | RuleOp::Gt | RuleOp::Ge | RuleOp::Lt | RuleOp::Le),
            ) => {
                let mut value = number()?;
                if self.field == RuleField::Duration {
                    value = value.saturating_mul(1000);
                }
                if self.field == RuleField::Rating && !(0..=5).contains(&value) {
                    return Err(LibraryError::InvalidRule("a rating is 0 to 5".into()));
                }
                let symbol = match op {
                    RuleOp::Is => "=",
                    RuleOp::IsNot => "!=",
                    RuleOp::Gt => ">",
                    RuleOp::Ge => ">=",
                    RuleOp::Lt => "<",
                    _ => "<=",
                };
                // An unrated track has no rating: it is not "rating < 3", nor "rating is not 5".
                (format!("({column} IS NOT NULL AND {column} {symbol} ?)"), vec![SqlValue::Integer(value)])
            }
            (Kind::Bool, RuleOp::Is | RuleOp::IsNot) => {
                let wanted = self.value.as_bool().ok_or_else(invalid)?;
                let wanted = if self.op == RuleOp::Is { wanted } else { !wanted };
                (format!("{column} = ?"), vec![SqlValue::Integer(i64::from(wanted))])
            }
            (Kind::Date, RuleOp::InLastDays | RuleOp::NotInLastDays) => {
                let days = number()?;
                if !(0..=365_000).contains(&days) {
                    return Err(LibraryError::InvalidRule("a number of days is 0 to 365000".into()));
                }
                let since_ms = now_ms.saturating_sub(days.saturating_mul(86_400_000));
                // `added_at` is in seconds, `last_played_ms` in milliseconds.
                let since = if self.field == RuleField::Added { since_ms / 1000 } else { since_ms };
                if self.op == RuleOp::InLastDays {
                    (format!("({column} IS NOT NULL AND {column} >= ?)"), vec![SqlValue::Integer(since)])
                } else {
                    // Never played counts as not played lately.
                    (format!("({column} IS NULL OR {column} < ?)"), vec![SqlValue::Integer(since)])
                }
            }
            _ => return Err(invalid()),
        })
    }
}

/// A rule playlist as the library lists it: a built-in one or the user's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct SmartPlaylistInfo {
    pub id: String,
    pub name: String,
    pub rule: SmartRule,
    pub builtin: bool,
}

impl Library {
    /// The built-in rule playlists, then the user's by name.
    pub fn smart_playlists(&self) -> Result<Vec<SmartPlaylistInfo>> {
        let mut playlists: Vec<SmartPlaylistInfo> = builtin_smart_playlists()
            .into_iter()
            .map(|(id, name, rule)| SmartPlaylistInfo {
                id: id.to_owned(),
                name: name.to_owned(),
                rule,
                builtin: true,
            })
            .collect();
        let stored: Vec<(String, String, String)> = self.read(|db| {
            let mut statement = db.prepare_cached(
                "SELECT id, name, rule FROM smart_playlists ORDER BY name COLLATE NOCASE, id",
            )?;
            let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        for (id, name, rule) in stored {
            // A rule another (newer) client wrote that this one cannot read is left out here
            // and kept in the catalog.
            match serde_json::from_str::<Value>(&rule)
                .map_err(|_| ())
                .and_then(|json| SmartRule::from_json(&json).map_err(|_| ()))
            {
                Ok(rule) => playlists.push(SmartPlaylistInfo { id, name, rule, builtin: false }),
                Err(()) => tracing::warn!(%id, "a rule playlist has a rule this Loft cannot read"),
            }
        }
        Ok(playlists)
    }

    /// One rule playlist, built-in or the user's, by id.
    pub fn smart_playlist(&self, id: &str) -> Result<SmartPlaylistInfo> {
        self.smart_playlists()?
            .into_iter()
            .find(|playlist| playlist.id == id)
            .ok_or_else(|| LibraryError::UnknownPlaylist(id.to_owned()))
    }

    /// Creates or replaces the user's rule playlist `id` (the catalog's id when a locker holds it).
    pub fn put_smart_playlist(&self, id: &str, name: &str, rule: &SmartRule) -> Result<SmartPlaylistInfo> {
        rule.check()?;
        let name = crate::clean_playlist_name(name)?;
        if id.starts_with("builtin-") {
            return Err(LibraryError::InvalidInput("a built-in rule playlist cannot be changed".into()));
        }
        self.writer().execute(
            "INSERT INTO smart_playlists (id, name, rule, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(id) DO UPDATE SET name = ?2, rule = ?3, updated_at = ?4",
            rusqlite::params![id, name, rule.to_json().to_string(), crate::now_seconds()],
        )?;
        Ok(SmartPlaylistInfo { id: id.to_owned(), name, rule: rule.clone(), builtin: false })
    }

    /// Deletes the user's rule playlist `id`; returns whether there was one.
    pub fn delete_smart_playlist(&self, id: &str) -> Result<bool> {
        Ok(self.writer().execute("DELETE FROM smart_playlists WHERE id = ?1", rusqlite::params![id])? > 0)
    }

    /// The tracks a rule picks, in its order (artist order when it sets none), at most its
    /// limit. `now_ms` is what "in the last N days" counts back from.
    pub fn smart_tracks(&self, rule: &SmartRule, now_ms: u64) -> Result<Vec<Track>> {
        rule.check()?;
        let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
        let mut clauses = Vec::with_capacity(rule.conditions.len());
        let mut values: Vec<SqlValue> = Vec::new();
        for condition in &rule.conditions {
            let (sql, params) = condition.sql(now)?;
            clauses.push(sql);
            values.extend(params);
        }
        let filter = match (clauses.is_empty(), rule.match_) {
            (true, _) => "1".to_owned(),
            (false, Match::All) => clauses.join(" AND "),
            (false, Match::Any) => clauses.join(" OR "),
        };
        let sort = rule.sort.unwrap_or(RuleSort { field: RuleField::Artist, descending: false });
        let direction = if sort.descending { " DESC" } else { "" };
        let mut order: Vec<String> =
            sort.field.order().iter().map(|term| format!("{term}{direction}")).collect();
        order.push("t.id".to_owned());
        let limit = rule.limit.unwrap_or(SMART_LIMIT_MAX);
        values.push(SqlValue::Integer(i64::from(limit)));
        let sql = format!(
            "SELECT {TRACK_COLUMNS} FROM tracks t WHERE {filter} ORDER BY {} LIMIT ?",
            order.join(", ")
        );
        self.read(|db| {
            let mut statement = db.prepare_cached(&sql)?;
            let rows = statement.query_map(params_from_iter(values.iter()), track_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_s_rule_reads_from_text() {
        let rule = SmartRule::parse(
            "genre is Jazz and rating >= 4 and last played not in last 90 days sort by plays desc limit 50",
        )
        .unwrap();
        assert_eq!(rule.match_, Match::All);
        assert_eq!(
            rule.conditions,
            vec![
                Condition { field: RuleField::Genre, op: RuleOp::Is, value: Value::from("Jazz") },
                Condition { field: RuleField::Rating, op: RuleOp::Ge, value: Value::from(4) },
                Condition { field: RuleField::LastPlayed, op: RuleOp::NotInLastDays, value: Value::from(90) },
            ]
        );
        assert_eq!(rule.sort, Some(RuleSort { field: RuleField::PlayCount, descending: true }));
        assert_eq!(rule.limit, Some(50));
        assert_eq!(SmartRule::from_json(&rule.to_json()).unwrap(), rule);
    }

    #[test]
    fn bad_rules_are_refused_with_a_reason() {
        for (text, why) in [
            ("genre is Jazz and year > 1990 or loved", "not both"),
            ("mood is happy", "does not start with a field"),
            ("year is nineteen", "whole number"),
            ("rating > 9", "0 to 5"),
            ("title > 3", "does not make sense"),
            ("loved is maybe", "yes or no"),
            ("genre is Rock limit 0", "limit"),
            ("genre is Rock sort by mood", "not a field"),
        ] {
            let error = SmartRule::parse(text).unwrap_err().to_string();
            assert!(error.contains(why), "{text}: {error}");
        }
        let hostile =
            serde_json::json!({"match": "all", "conditions": [{"field": "title", "op": "gt", "value": 1}]});
        assert!(SmartRule::from_json(&hostile).is_err());
        assert!(SmartRule::from_json(&serde_json::json!({"conditions": "x"})).is_err());
    }

    #[test]
    fn values_keep_their_case_and_or_rules_read() {
        let rule = SmartRule::parse("artist contains Sigur Rós or title starts with Hoppí").unwrap();
        assert_eq!(rule.match_, Match::Any);
        assert_eq!(rule.conditions[0].value, Value::from("Sigur Rós"));
        assert_eq!(rule.conditions[1].value, Value::from("Hoppí"));
        assert_eq!(SmartRule::parse("loved").unwrap().conditions[0].value, Value::Bool(true));
    }
}
