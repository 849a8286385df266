//! Frames between members (spec/protocol.md, "Framing"): a 4-byte
//! little-endian length, then that many bytes of one JSON [`Frame`]. The
//! protocol's messages travel in the JSON form the vectors fix; the other
//! frames are this transport's own (hello, block requests and answers).

use serde::{Deserialize, Serialize};
use time_consensus::message::CertifiedBlock;
use time_consensus::{Hash32, Message, NodeId, Signature};
use tokio::io::AsyncReadExt;

/// The transport's version, sent in every hello.
pub const WIRE_VERSION: &str = "time-node-wire/1";

/// Largest frame accepted: a block at the default byte limit (4 MiB) with
/// its certificate, in JSON's hex, fits with room to spare.
pub const MAX_FRAME: u32 = 16 << 20;

/// Most blocks asked for, or sent, in one frame.
pub const MAX_BLOCKS_PER_FRAME: u32 = 64;

/// One frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Frame {
    /// The first frame the accepting side sends: a fresh nonce the dialer
    /// signs in its hello.
    Challenge {
        /// 32 random bytes.
        nonce: Hash32,
    },
    /// The dialer's first frame: who it is, proven by its signature over
    /// the nonce ([`hello_bytes`]), and its tip (a peer whose tip is higher
    /// is asked for the blocks in between).
    Hello {
        /// [`WIRE_VERSION`].
        version: String,
        /// The dialing member.
        node_id: NodeId,
        /// Height of its last finalized block.
        tip_height: u64,
        /// Its signature over [`hello_bytes`] of the challenge's nonce.
        signature: Signature,
    },
    /// A protocol message (R0.6).
    Message(Message),
    /// Asks for finalized blocks from height `from`, at most `max`.
    GetBlocks {
        /// First height wanted.
        from: u64,
        /// At most this many (capped at [`MAX_BLOCKS_PER_FRAME`]).
        max: u32,
    },
    /// Finalized blocks with their commit certificates, by increasing height.
    Blocks(Vec<CertifiedBlock>),
}

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The connection failed or closed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A length above [`MAX_FRAME`] (a peer that floods is cut off before
    /// anything is allocated).
    #[error("frame of {len} bytes, at most {MAX_FRAME} accepted")]
    TooLong {
        /// The length announced.
        len: u32,
    },
    /// Not a frame.
    #[error("malformed frame: {0}")]
    Json(#[from] serde_json::Error),
}

/// The transport's own domain tag for hellos: no protocol object starts
/// with it (R0.3's tags are all `TIME/v1/...`).
pub const HELLO_TAG: &[u8] = b"time-node-wire/1/hello";

/// What a dialer signs to answer a challenge: the tag, the nonce, its id,
/// the id of the member it dialed and its tip height, each as R0.2's
/// `bytes`. Naming the acceptor stops a member relaying another's hello to
/// a third (it would be signed for the relay, not the third); the tip is
/// signed so a relay cannot alter it.
pub fn hello_bytes(nonce: &Hash32, dialer: &NodeId, acceptor: &NodeId, tip_height: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let tip = tip_height.to_le_bytes();
    for part in [
        HELLO_TAG,
        &nonce.0[..],
        dialer.as_str().as_bytes(),
        acceptor.as_str().as_bytes(),
        &tip[..],
    ] {
        out.extend_from_slice(&(part.len() as u32).to_le_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// Largest first frame (a hello) read from a connection not yet
/// authenticated: a stranger cannot make a member allocate more.
pub const MAX_HELLO: u32 = 1024;

/// Encodes a frame with its length prefix.
pub fn encode(frame: &Frame) -> Result<Vec<u8>, FrameError> {
    let json = serde_json::to_vec(frame)?;
    let len = u32::try_from(json.len())
        .ok()
        .filter(|l| *l <= MAX_FRAME)
        .ok_or(FrameError::TooLong { len: u32::MAX })?;
    let mut out = Vec::with_capacity(4 + json.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&json);
    Ok(out)
}

/// Decodes the body of one frame (without its length prefix).
pub fn decode(body: &[u8]) -> Result<Frame, FrameError> {
    Ok(serde_json::from_slice(body)?)
}

/// Reads one frame.
pub async fn read_frame<R: AsyncReadExt + Unpin>(r: &mut R) -> Result<Frame, FrameError> {
    let len = read_len(r).await?;
    read_body(r, len).await
}

/// Reads a frame's length, refusing one above [`MAX_FRAME`].
pub async fn read_len<R: AsyncReadExt + Unpin>(r: &mut R) -> Result<u32, FrameError> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await?;
    let len = u32::from_le_bytes(len);
    if len > MAX_FRAME {
        return Err(FrameError::TooLong { len });
    }
    Ok(len)
}

/// Reads and decodes a body of `len` bytes.
pub async fn read_body<R: AsyncReadExt + Unpin>(r: &mut R, len: u32) -> Result<Frame, FrameError> {
    let mut body = vec![0u8; len as usize];
    r.read_exact(&mut body).await?;
    decode(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_refuse_what_they_should() {
        let f = Frame::GetBlocks { from: 3, max: 10 };
        let bytes = encode(&f).unwrap();
        assert_eq!(&bytes[..4], &(bytes.len() as u32 - 4).to_le_bytes());
        assert_eq!(decode(&bytes[4..]).unwrap(), f);
        assert!(matches!(
            decode(br#"{"get_blocks":{"from":3,"max":10,"extra":1}}"#),
            Err(FrameError::Json(_))
        ));
        assert!(matches!(decode(b"\xff"), Err(FrameError::Json(_))));
    }

    #[tokio::test]
    async fn an_oversized_length_is_refused_before_reading_the_body() {
        let mut input: &[u8] = &(MAX_FRAME + 1).to_le_bytes();
        match read_frame(&mut input).await {
            Err(FrameError::TooLong { len }) => assert_eq!(len, MAX_FRAME + 1),
            other => panic!("expected TooLong, got {other:?}"),
        }
    }
}
