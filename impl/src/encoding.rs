//! The canonical byte encoding (spec R0.2): what is hashed and what is signed.
//!
//! Fixed-width little-endian integers, `u32`-length-prefixed byte strings, and
//! a domain tag at the start of every signed or hashed object so that no two
//! kinds of object can share an encoding. No JSON, no field names, no maps.

use crate::primitives::{Hash32, NodeId, ShortString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Why something has no canonical encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncodeError {
    /// A length prefix would not fit in `u32` (R0.2): 2^32 items or more.
    #[error("a length of {len} does not fit the u32 prefix of the encoding")]
    TooLong {
        /// The length.
        len: u64,
    },
}

/// Domain tags (R0.3): the first bytes of every encoded object.
pub mod tag {
    /// Block header, hashed to the block hash.
    pub const HEADER: &[u8] = b"TIME/v1/header";
    /// Transaction, hashed to the txid.
    pub const TX: &[u8] = b"TIME/v1/tx";
    /// Signed heartbeat.
    pub const HEARTBEAT: &[u8] = b"TIME/v1/heartbeat";
    /// Signed proposal.
    pub const PROPOSAL: &[u8] = b"TIME/v1/proposal";
    /// Signed vote.
    pub const VOTE: &[u8] = b"TIME/v1/vote";
    /// Reference election seed.
    pub const ELECTION: &[u8] = b"TIME/v1/election";
}

/// Appends canonical encodings to a byte buffer.
#[derive(Debug, Default, Clone)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// Starts an encoding with a domain tag (written length-prefixed).
    pub fn with_tag(tag: &'static [u8]) -> Self {
        let mut e = Encoder {
            buf: Vec::with_capacity(160),
        };
        e.short(tag);
        e
    }

    /// A byte string whose type bounds its length far below 2^32: a domain
    /// tag (a constant), a node id (at most 64 bytes, R0.1) or a
    /// [`ShortString`].
    fn short(&mut self, b: &[u8]) -> &mut Self {
        debug_assert!(b.len() <= ShortString::MAX_LEN);
        // Bounded by the callers' types (above), so never saturates.
        let len = u32::try_from(b.len()).unwrap_or(u32::MAX);
        self.u32(len);
        self.buf.extend_from_slice(b);
        self
    }

    /// One byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    /// Four bytes, little-endian (R0.1).
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Eight bytes, little-endian (R0.1).
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// A `bool` as one byte, 0 or 1.
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.u8(v as u8)
    }

    /// A 32-byte hash, raw.
    pub fn hash(&mut self, h: &Hash32) -> &mut Self {
        self.buf.extend_from_slice(&h.0);
        self
    }

    /// A count or length as `u32` (R0.2), refused if it does not fit.
    pub fn length(&mut self, len: usize) -> Result<&mut Self, EncodeError> {
        match u32::try_from(len) {
            Ok(v) => Ok(self.u32(v)),
            Err(_) => Err(EncodeError::TooLong { len: len as u64 }),
        }
    }

    /// A byte string: `u32` length, then the bytes; refused (before anything
    /// is written) if it has 2^32 bytes or more.
    pub fn bytes(&mut self, b: &[u8]) -> Result<&mut Self, EncodeError> {
        self.length(b.len())?;
        self.buf.extend_from_slice(b);
        Ok(self)
    }

    /// A node id as a byte string of its UTF-8 bytes.
    pub fn node(&mut self, id: &NodeId) -> &mut Self {
        self.short(id.as_str().as_bytes())
    }

    /// A short string as a byte string of its UTF-8 bytes.
    pub fn text(&mut self, s: &ShortString) -> &mut Self {
        self.short(s.as_str().as_bytes())
    }

    /// An optional `u32`: byte 0, or byte 1 then the value.
    pub fn opt_u32(&mut self, v: Option<u32>) -> &mut Self {
        match v {
            None => self.u8(0),
            Some(v) => self.u8(1).u32(v),
        }
    }

    /// The encoded bytes.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }

    /// SHA-256 of the encoded bytes.
    pub fn sha256(&self) -> Hash32 {
        sha256(&self.buf)
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Hash32 {
    Hash32(Sha256::digest(data).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_tagged_length_prefixed_little_endian() {
        let mut e = Encoder::with_tag(b"T");
        e.u32(1).u64(2).bool(true).opt_u32(None).opt_u32(Some(7));
        let b = e.finish();
        assert_eq!(
            b,
            vec![1, 0, 0, 0, b'T', 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 7, 0, 0, 0]
        );
    }

    #[test]
    fn lengths_beyond_u32_are_refused_not_truncated() {
        let mut e = Encoder::with_tag(b"T");
        assert_eq!(
            e.length(1 << 32).err(),
            Some(EncodeError::TooLong { len: 1 << 32 })
        );
        assert!(e.length(u32::MAX as usize).is_ok());
        // 2^32 zero bytes, mapped but never touched: refused before copying.
        let huge = vec![0u8; 1 << 32];
        let mut e = Encoder::with_tag(b"T");
        assert_eq!(
            e.bytes(&huge).err(),
            Some(EncodeError::TooLong { len: 1 << 32 })
        );
        assert_eq!(e.finish(), vec![1, 0, 0, 0, b'T']);
        let mut e = Encoder::with_tag(b"T");
        e.bytes(b"ab")
            .unwrap()
            .text(&ShortString::new("v").unwrap());
        assert_eq!(
            e.finish(),
            [
                &[1, 0, 0, 0, b'T', 2, 0, 0, 0][..],
                b"ab",
                &[1, 0, 0, 0, b'v']
            ]
            .concat()
        );
    }

    #[test]
    fn sha256_matches_the_standard_vector() {
        assert_eq!(
            sha256(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
