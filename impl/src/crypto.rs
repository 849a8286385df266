//! Signatures (spec R0.4).
//!
//! The default scheme is ed25519 (ed25519-dalek, `verify_strict`). The model
//! checker may select [`SignatureScheme::Symbolic`]: a keyed SHA-256 stand-in
//! that is a thousand times cheaper and, under the model's Dolev-Yao
//! assumption (an actor only ever signs with its own key), just as
//! unforgeable. Nothing else in the protocol depends on which scheme runs.
//! The choice is a closed enum rather than a trait object: the spec fixes the
//! schemes (R0.4), and the model checker clones, hashes and compares node
//! states, keys included, millions of times.

use crate::encoding::sha256;
use crate::primitives::{from_hex, to_hex, ParseError};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A 32-byte public key as registered for a masternode.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey(pub [u8; 32]);

/// A 64-byte signature.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signature(pub [u8; 64]);

macro_rules! hex_serde {
    ($name:ident, $n:expr) => {
        impl $name {
            /// Parses the hex form.
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
                f.write_str(&to_hex(&self.0[..4]))
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
hex_serde!(PublicKey, 32);
hex_serde!(Signature, 64);

/// Which signature algorithm a deployment (or a model run) uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureScheme {
    /// Real ed25519 (the default; every conformance vector but the node
    /// traces exported from the model checker).
    #[default]
    Ed25519,
    /// Keyed SHA-256 for the model checker; see the module docs.
    Symbolic,
}

/// Why a public key cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not the encoding of a curve point.
    #[error("public key {0} is not a valid ed25519 point")]
    NotAPoint(String),
    /// A small-order point, under which any message has a valid signature.
    #[error("public key {0} is a weak (small-order) ed25519 key")]
    Weak(String),
}

impl SignatureScheme {
    /// Checks that `key` can be registered under this scheme.
    pub fn check_key(self, key: &PublicKey) -> Result<(), KeyError> {
        match self {
            SignatureScheme::Symbolic => Ok(()),
            SignatureScheme::Ed25519 => decode_key(key).map(|_| ()),
        }
    }

    /// Verifies one signature (R0.4: ed25519 `verify_strict`).
    pub fn verify(self, key: &PublicKey, msg: &[u8], sig: &Signature) -> bool {
        match self {
            SignatureScheme::Symbolic => symbolic_signature(key, msg) == *sig,
            SignatureScheme::Ed25519 => match VerifyingKey::from_bytes(&key.0) {
                Ok(vk) => vk
                    .verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&sig.0))
                    .is_ok(),
                Err(_) => false,
            },
        }
    }

    /// Verifies many signatures at once; `true` iff all are valid.
    ///
    /// For ed25519 this is dalek's `verify_batch`, which can accept a crafted
    /// signature that `verify_strict` rejects. Only a Byzantine key holder can
    /// craft one, and counting its vote at some nodes and not others is no
    /// more than it can do by choosing whom to send it to (spec R0.4).
    pub fn verify_batch(self, items: &[(&PublicKey, &[u8], &Signature)]) -> bool {
        match self {
            SignatureScheme::Symbolic => items
                .iter()
                .all(|(k, m, s)| symbolic_signature(k, m) == **s),
            SignatureScheme::Ed25519 => {
                let mut keys = Vec::with_capacity(items.len());
                for (k, _, _) in items {
                    match VerifyingKey::from_bytes(&k.0) {
                        Ok(vk) => keys.push(vk),
                        Err(_) => return false,
                    }
                }
                let msgs: Vec<&[u8]> = items.iter().map(|(_, m, _)| *m).collect();
                let sigs: Vec<ed25519_dalek::Signature> = items
                    .iter()
                    .map(|(_, _, s)| ed25519_dalek::Signature::from_bytes(&s.0))
                    .collect();
                ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok()
            }
        }
    }
}

/// Decodes an ed25519 key to a curve point, refusing a non-point and a weak
/// (small-order) key. The decoding (a square root in the field) costs about a
/// third of a batch verification, so a registry does it once per member.
pub fn decode_key(key: &PublicKey) -> Result<VerifyingKey, KeyError> {
    let vk = VerifyingKey::from_bytes(&key.0).map_err(|_| KeyError::NotAPoint(key.to_hex()))?;
    if vk.is_weak() {
        return Err(KeyError::Weak(key.to_hex()));
    }
    Ok(vk)
}

/// Verifies many signatures under decoded keys at once; `true` iff all are
/// valid (dalek's `verify_batch`; see [`SignatureScheme::verify_batch`]).
pub fn verify_batch_decoded(items: &[(&VerifyingKey, &[u8], &Signature)]) -> bool {
    let msgs: Vec<&[u8]> = items.iter().map(|(_, m, _)| *m).collect();
    let sigs: Vec<ed25519_dalek::Signature> = items
        .iter()
        .map(|(_, _, s)| ed25519_dalek::Signature::from_bytes(&s.0))
        .collect();
    let keys: Vec<VerifyingKey> = items.iter().map(|(k, _, _)| **k).collect();
    ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok()
}

/// Verifies one signature under a decoded key (R0.4: `verify_strict`).
pub fn verify_decoded(key: &VerifyingKey, msg: &[u8], sig: &Signature) -> bool {
    key.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&sig.0))
        .is_ok()
}

fn symbolic_signature(key: &PublicKey, msg: &[u8]) -> Signature {
    let mut buf = Vec::with_capacity(40 + msg.len());
    buf.extend_from_slice(b"SYMBOLIC");
    buf.extend_from_slice(&key.0);
    buf.extend_from_slice(msg);
    let h = sha256(&buf);
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&h.0);
    sig[32..].copy_from_slice(&h.0);
    Signature(sig)
}

/// A node's signing key. Not part of any hashed state: it lives in the node's
/// static context.
#[derive(Clone)]
pub struct Keypair {
    scheme: SignatureScheme,
    public: PublicKey,
    secret: Option<SigningKey>,
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keypair({:?}, {:?})", self.scheme, self.public)
    }
}

impl Keypair {
    /// Derives a key pair from a 32-byte secret seed.
    pub fn from_seed(scheme: SignatureScheme, seed: [u8; 32]) -> Self {
        match scheme {
            SignatureScheme::Ed25519 => {
                let sk = SigningKey::from_bytes(&seed);
                Keypair {
                    scheme,
                    public: PublicKey(sk.verifying_key().to_bytes()),
                    secret: Some(sk),
                }
            }
            SignatureScheme::Symbolic => Keypair {
                scheme,
                public: PublicKey(sha256(&seed).0),
                secret: None,
            },
        }
    }

    /// A deterministic key pair for tests, simulations and vectors: the seed
    /// is SHA-256 of `label`.
    pub fn from_label(scheme: SignatureScheme, label: &str) -> Self {
        Keypair::from_seed(scheme, sha256(label.as_bytes()).0)
    }

    /// The public key.
    pub fn public(&self) -> PublicKey {
        self.public
    }

    /// The scheme.
    pub fn scheme(&self) -> SignatureScheme {
        self.scheme
    }

    /// Signs `msg`.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        match &self.secret {
            Some(sk) => Signature(sk.sign(msg).to_bytes()),
            None => symbolic_signature(&self.public, msg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_schemes_accept_their_own_signatures_and_reject_others() {
        for scheme in [SignatureScheme::Ed25519, SignatureScheme::Symbolic] {
            let a = Keypair::from_label(scheme, "a");
            let b = Keypair::from_label(scheme, "b");
            let sig = a.sign(b"msg");
            assert!(scheme.verify(&a.public(), b"msg", &sig));
            assert!(!scheme.verify(&a.public(), b"msh", &sig));
            assert!(!scheme.verify(&b.public(), b"msg", &sig));
            let mut bad = sig;
            bad.0[10] ^= 1;
            assert!(!scheme.verify(&a.public(), b"msg", &bad));
            let items = [(&a.public(), &b"msg"[..], &sig)];
            assert!(scheme.verify_batch(&items));
            let items = [
                (&a.public(), &b"msg"[..], &sig),
                (&b.public(), &b"x"[..], &sig),
            ];
            assert!(!scheme.verify_batch(&items));
        }
    }

    #[test]
    fn weak_and_invalid_keys_are_refused() {
        // The identity point (small order) and a non-point encoding.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(matches!(
            SignatureScheme::Ed25519.check_key(&PublicKey(identity)),
            Err(KeyError::Weak(_))
        ));
        let good = Keypair::from_label(SignatureScheme::Ed25519, "x").public();
        assert!(SignatureScheme::Ed25519.check_key(&good).is_ok());
        let not_point = PublicKey([2; 32]);
        assert!(SignatureScheme::Ed25519.check_key(&not_point).is_err());
    }
}
