//! Small value types shared by every phase: node ids, 32-byte hashes and
//! calendar dates. All are cheap to clone (the model clones states a lot) and
//! serialize as readable strings (the conformance vectors are JSON).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

/// Errors from parsing the textual forms of the primitives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A hex string had the wrong length or a non-hex character.
    #[error("expected {expected} hex characters, got {got:?}")]
    Hex {
        /// Number of hex characters expected.
        expected: usize,
        /// The text that was given.
        got: String,
    },
    /// A date was not `YYYY-MM-DD` with a real month and day in years 1..=9999.
    #[error("invalid date {0:?}: expected YYYY-MM-DD")]
    Date(String),
    /// A node id was empty, too long or had a non-printable character.
    #[error("invalid node id {0:?}: 1 to 64 printable ASCII characters")]
    NodeId(String),
    /// A short string was longer than [`ShortString::MAX_LEN`] bytes.
    #[error("{len} bytes of text; at most {max}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// [`ShortString::MAX_LEN`].
        max: usize,
    },
}

/// A masternode's identifier (in the deployed code, its IP address).
///
/// Backed by an `Arc<str>` so that cloning a message or a state does not
/// allocate. Ordered byte-wise; that order is the canonical masternode order of
/// the reference rules (R2.1).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(Arc<str>);

impl NodeId {
    /// Longest accepted id, in bytes (an IPv6 address with zone fits).
    pub const MAX_LEN: usize = 64;

    /// Builds an id, checking it is 1 to 64 printable ASCII characters.
    pub fn new(id: &str) -> Result<Self, ParseError> {
        let ok =
            !id.is_empty() && id.len() <= Self::MAX_LEN && id.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(NodeId(Arc::from(id)))
        } else {
            Err(ParseError::NodeId(id.to_string()))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for NodeId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for NodeId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        NodeId::new(&s).map_err(serde::de::Error::custom)
    }
}

/// UTF-8 text of at most [`ShortString::MAX_LEN`] bytes: the software version
/// a heartbeat announces (R1.1) and the treasury address (R3.2). The bound is
/// part of the type so that their encodings always exist (R0.2).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShortString(Arc<str>);

impl ShortString {
    /// Longest accepted text, in bytes.
    pub const MAX_LEN: usize = 128;

    /// Builds a short string, checking its length.
    pub fn new(s: &str) -> Result<Self, ParseError> {
        if s.len() <= Self::MAX_LEN {
            Ok(ShortString(Arc::from(s)))
        } else {
            Err(ParseError::TooLong {
                len: s.len(),
                max: Self::MAX_LEN,
            })
        }
    }

    /// A constant of this crate: its text, cut at a character boundary to
    /// [`Self::MAX_LEN`] (every one is shorter; a test checks they are
    /// whole). Infallible, unlike [`Self::new`] for text from outside.
    pub fn literal(s: &'static str) -> Self {
        let mut end = s.len().min(Self::MAX_LEN);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        ShortString(Arc::from(s.get(..end).unwrap_or_default()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for ShortString {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        ShortString::new(s)
    }
}

impl fmt::Debug for ShortString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for ShortString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ShortString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ShortString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ShortString::new(&s).map_err(serde::de::Error::custom)
    }
}

/// Writes `bytes` as lower-case hex, the text form of all bytes (R0.1).
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Reads exactly `N` bytes of hex.
pub fn from_hex<const N: usize>(s: &str) -> Result<[u8; N], ParseError> {
    let err = || ParseError::Hex {
        expected: 2 * N,
        got: s.to_string(),
    };
    if s.len() != 2 * N {
        return Err(err());
    }
    let mut out = [0u8; N];
    for (i, pair) in s.as_bytes().chunks(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16).ok_or_else(err)?;
        let lo = (pair[1] as char).to_digit(16).ok_or_else(err)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Ok(out)
}

/// Reads any even-length hex string.
pub fn from_hex_vec(s: &str) -> Result<Vec<u8>, ParseError> {
    let err = || ParseError::Hex {
        expected: s.len() + s.len() % 2,
        got: s.to_string(),
    };
    if s.len() % 2 != 0 {
        return Err(err());
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16).ok_or_else(err)?;
            let lo = (pair[1] as char).to_digit(16).ok_or_else(err)?;
            Ok((hi * 16 + lo) as u8)
        })
        .collect()
}

macro_rules! hex_bytes {
    ($(#[$doc:meta])* $name:ident, $n:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; $n]);

        impl $name {
            /// Parses the lower- or upper-case hex form.
            pub fn from_hex(s: &str) -> Result<Self, ParseError> {
                from_hex::<$n>(s).map($name)
            }
            /// The bytes as lower-case hex.
            pub fn to_hex(&self) -> String {
                to_hex(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Eight hex digits are enough to tell values apart in traces.
                f.write_str(&to_hex(&self.0[..4]))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&to_hex(&self.0))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&to_hex(&self.0))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::from_hex(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

hex_bytes!(
    /// A SHA-256 digest: block hashes, merkle roots, transaction ids.
    Hash32,
    32
);

impl Hash32 {
    /// The all-zero hash (the previous hash of the genesis block).
    pub const ZERO: Hash32 = Hash32([0; 32]);

    /// Its first eight bytes as a little-endian `u64` (the draws of R2 and
    /// S2 read a hash so).
    pub fn first_u64_le(&self) -> u64 {
        let [a, b, c, d, e, f, g, h, ..] = self.0;
        u64::from_le_bytes([a, b, c, d, e, f, g, h])
    }
}

/// A calendar date (proleptic Gregorian), stored as days since 1970-01-01.
///
/// Hand-written rather than pulled from a date crate: the protocol needs
/// exactly three operations (parse, format `YYYY-MM-DD`, whole-day difference)
/// and must format bit for bit like the deployed code's `NaiveDate`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

impl Date {
    /// The calendar's last date, 9999-12-31.
    pub const LAST: Date = Date(days_from_civil(9999, 12, 31));

    /// The deployed chain's genesis date, 2025-10-24 (R2.3).
    pub const GENESIS: Date = Date(days_from_civil(2025, 10, 24));

    /// Builds a date from its parts; `None` if it does not exist or the year is
    /// outside 1..=9999.
    pub const fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if year < 1 || year > 9999 || month < 1 || month > 12 || day == 0 {
            return None;
        }
        if day > days_in_month(year, month) {
            return None;
        }
        Some(Date(days_from_civil(year, month, day)))
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i32 {
        self.0
    }

    /// The date `days` after this one; `None` outside years 1..=9999.
    pub fn add_days(self, days: i64) -> Option<Date> {
        let d = i64::from(self.0).checked_add(days)?;
        let d = i32::try_from(d).ok()?;
        let (y, _, _) = civil_from_days(d);
        (1..=9999).contains(&y).then_some(Date(d))
    }

    /// Whole days from `earlier` to `self` (negative if `earlier` is later).
    pub fn days_since(self, earlier: Date) -> i64 {
        i64::from(self.0) - i64::from(earlier.0)
    }

    /// `(year, month, day)`.
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }
}

const fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

const fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days.
const fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i32 - 719_468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u32;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i32 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl std::str::FromStr for Date {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Date, ParseError> {
        let err = || ParseError::Date(s.to_string());
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(err());
        }
        let num = |r: std::ops::Range<usize>| -> Result<u32, ParseError> {
            let part = &s[r];
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().map_err(|_| err())
            } else {
                Err(err())
            }
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        Date::from_ymd(y as i32, m, d).ok_or_else(err)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_strings_are_bounded() {
        let max = "v".repeat(ShortString::MAX_LEN);
        assert_eq!(ShortString::new(&max).unwrap().as_str(), max);
        assert_eq!(ShortString::new("").unwrap().as_str(), "");
        let long = "v".repeat(ShortString::MAX_LEN + 1);
        assert_eq!(
            ShortString::new(&long),
            Err(ParseError::TooLong {
                len: ShortString::MAX_LEN + 1,
                max: ShortString::MAX_LEN
            })
        );
        let json = serde_json::to_string(&long).unwrap();
        assert!(serde_json::from_str::<ShortString>(&json).is_err());
        let v: ShortString = serde_json::from_str("\"1.0.0\"").unwrap();
        assert_eq!(format!("{v:?} {v}"), "\"1.0.0\" 1.0.0");
    }

    #[test]
    fn dates_round_trip_and_differ_by_whole_days() {
        let d: Date = "2025-11-01".parse().unwrap();
        assert_eq!(d.to_string(), "2025-11-01");
        let r: Date = "2025-01-01".parse().unwrap();
        assert_eq!(d.days_since(r), 304);
        assert_eq!("1970-01-01".parse::<Date>().unwrap().days_since_epoch(), 0);
        assert_eq!(
            "2024-02-29".parse::<Date>().unwrap().to_string(),
            "2024-02-29"
        );
        assert_eq!(r.add_days(59).unwrap().to_string(), "2025-03-01");
        for bad in [
            "2025-02-29",
            "2025-13-01",
            "2025-1-01",
            "0000-01-01",
            "+025-01-01",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        let start = Date::from_ymd(1900, 1, 1).unwrap();
        for i in 0..146_097 {
            let d = start.add_days(i).unwrap();
            let (y, m, dd) = d.ymd();
            assert_eq!(Date::from_ymd(y, m, dd), Some(d));
            assert_eq!(d.to_string().parse::<Date>().unwrap(), d);
        }
    }

    #[test]
    fn node_ids_and_hex_reject_bad_text() {
        assert!(NodeId::new("192.168.1.1").is_ok());
        assert!(NodeId::new("").is_err());
        assert!(NodeId::new("has space").is_err());
        assert!(NodeId::new(&"x".repeat(65)).is_err());
        let h = Hash32([0xab; 32]);
        assert_eq!(Hash32::from_hex(&h.to_hex()).unwrap(), h);
        assert!(Hash32::from_hex("zz").is_err());
        assert!(Hash32::from_hex(&"g".repeat(64)).is_err());
        assert_eq!(from_hex_vec("00ff").unwrap(), vec![0, 255]);
        assert!(from_hex_vec("0").is_err());
    }
}
