//! The signatures suite: signing bytes, ed25519 signing and verification,
//! authentication and key registration (R0.x).

use super::block::{context, real_context, transfers};
use super::registry;
use crate::format::*;
use crate::generate::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time_consensus::config::RewardConfig;
use time_consensus::crypto::{KeyError, Keypair, PublicKey, Signature, SignatureScheme};
use time_consensus::encoding::sha256;
use time_consensus::event::Rejection;
use time_consensus::fallback::BlockKind;
use time_consensus::heartbeat::Heartbeat;
use time_consensus::message::{Message, Proposal};
use time_consensus::primitives::{from_hex, Hash32, NodeId};
use time_consensus::registry::Tier;
use time_consensus::sim::genesis_tip;
use time_consensus::vote::{Step, Vote};
use time_consensus::Rules;

/// Input of [`Op::Verify`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyIn {
    /// The key.
    pub public_key: PublicKey,
    /// The signed bytes.
    pub message: Bytes,
    /// The signature.
    pub signature: Signature,
}

/// Input of [`Op::Sign`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The 32-byte ed25519 secret seed.
    pub secret_seed: Hash32,
    /// The bytes to sign.
    pub message: Bytes,
}

/// Input of [`Op::Authenticate`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthenticateIn {
    /// The registry.
    pub masternodes: Vec<Member>,
    /// A heartbeat, proposal or vote.
    pub message: Message,
}

/// Input of [`Op::RegisterKey`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterKeyIn {
    /// The key.
    pub public_key: PublicKey,
}

/// A signature that verifies (`valid` is always true: a bad signature is a
/// rejection).
#[derive(Clone, Debug, Serialize)]
pub struct VerifiedOut {
    valid: bool,
}

/// The public key and the signature.
#[derive(Clone, Debug, Serialize)]
pub struct SignedOut {
    public_key: PublicKey,
    signature: Signature,
}

/// The signer, the kind of message (`heartbeat`, `proposal` or `vote`) and
/// the bytes its signature covers.
#[derive(Clone, Debug, Serialize)]
pub struct AuthenticatedOut {
    signer: NodeId,
    what: String,
    signing_bytes: Bytes,
}

/// A key that may be registered (`accepted` is always true: a refused key
/// is a rejection).
#[derive(Clone, Debug, Serialize)]
pub struct KeyAcceptedOut {
    accepted: bool,
}

/// A rejection with its code and message and no data.
fn refused<T>(error: &str, message: String) -> Result<T, Refusal> {
    Err(Refusal::Rejected(ExpectedRejection {
        error: error.into(),
        detail: None,
        message: Some(message),
    }))
}

impl Operation for VerifyIn {
    type Output = VerifiedOut;
    const SUITE: Suite = Suite::Signatures;
    fn execute(&self, _: Rules) -> Result<VerifiedOut, Refusal> {
        if SignatureScheme::Ed25519.verify(&self.public_key, &self.message.0, &self.signature) {
            Ok(VerifiedOut { valid: true })
        } else {
            refused(
                "bad_signature",
                "the signature does not verify (verify_strict)".into(),
            )
        }
    }
}

impl Operation for SignIn {
    type Output = SignedOut;
    const SUITE: Suite = Suite::Signatures;
    fn execute(&self, _: Rules) -> Result<SignedOut, Refusal> {
        let k = Keypair::from_seed(SignatureScheme::Ed25519, self.secret_seed.0);
        Ok(SignedOut {
            public_key: k.public(),
            signature: k.sign(&self.message.0),
        })
    }
}

impl Operation for AuthenticateIn {
    type Output = AuthenticatedOut;
    const SUITE: Suite = Suite::Signatures;
    fn execute(&self, _: Rules) -> Result<AuthenticatedOut, Refusal> {
        let reg = registry(&self.masternodes)?;
        let Some(s) = self.message.signed() else {
            return bad(
                "message: a certificate has no single signer; use the tally suite's `certificate`",
            );
        };
        let (signer, what) = (s.signer.clone(), s.kind);
        let Some(pos) = reg.position_of(&signer) else {
            return rejected(&Rejection::UnknownSigner { node: signer });
        };
        if !reg
            .scheme()
            .verify(&reg.at_position(pos).public_key, &s.bytes, s.signature)
        {
            return rejected(&Rejection::BadSignature { signer, what });
        }
        Ok(AuthenticatedOut {
            signer,
            what: what.to_string(),
            signing_bytes: Bytes(s.bytes),
        })
    }
}

impl Operation for RegisterKeyIn {
    type Output = KeyAcceptedOut;
    const SUITE: Suite = Suite::Signatures;
    fn execute(&self, _: Rules) -> Result<KeyAcceptedOut, Refusal> {
        match SignatureScheme::Ed25519.check_key(&self.public_key) {
            Ok(()) => Ok(KeyAcceptedOut { accepted: true }),
            Err(e @ KeyError::NotAPoint(_)) => refused("not_a_point", e.to_string()),
            Err(e @ KeyError::Weak(_)) => refused("weak_key", e.to_string()),
        }
    }
}

/// RFC 8032 section 7.1 tests 1 to 3: (secret, public, message, signature).
const RFC8032: [(&str, &str, &str, &str); 3] = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
];

fn hex_bytes(s: &str) -> Vec<u8> {
    time_consensus::primitives::from_hex_vec(s).expect("fixture hex")
}

/// The signatures suite.
pub fn signatures(g: &mut Gen) {
    for (i, (sk, pk, msg, sig)) in RFC8032.iter().enumerate() {
        let k = Keypair::from_seed(SignatureScheme::Ed25519, from_hex::<32>(sk).expect("hex"));
        let matches = k.public().to_hex() == *pk && k.sign(&hex_bytes(msg)).to_hex() == *sig;
        if !matches {
            g.error(format!("RFC 8032 test {} does not reproduce", i + 1));
        }
        g.case(
            &format!("sign_rfc8032_test{}", i + 1),
            BOTH,
            &format!("RFC 8032 section 7.1 TEST {}: the public key and the deterministic signature from the 32-byte secret seed.", i + 1),
            &["R0.4"],
            SignIn {
                secret_seed: Hash32(from_hex::<32>(sk).expect("hex")),
                message: Bytes(hex_bytes(msg)),
            },
        );
        g.case(
            &format!("verify_rfc8032_test{}", i + 1),
            BOTH,
            &format!("RFC 8032 section 7.1 TEST {} verifies.", i + 1),
            &["R0.4"],
            VerifyIn {
                public_key: PublicKey(from_hex::<32>(pk).expect("hex")),
                message: Bytes(hex_bytes(msg)),
                signature: Signature(from_hex::<64>(sig).expect("hex")),
            },
        );
    }
    for label in ["mn000", "mn003", "192.168.1.1"] {
        g.case(
            &format!("sign_label_{}", label.replace('.', "_")),
            BOTH,
            &format!("The key the vectors give {label:?}: secret seed = SHA-256({label:?}); signing the empty message."),
            &["R0.4"],
            SignIn {
                secret_seed: sha256(label.as_bytes()),
                message: Bytes(vec![]),
            },
        );
    }
    // Invalid signatures.
    let (_, pk, msg, sig) = RFC8032[2];
    let pk = PublicKey(from_hex::<32>(pk).expect("hex"));
    let sig = Signature(from_hex::<64>(sig).expect("hex"));
    let msg = hex_bytes(msg);
    let flip = |i: usize| {
        let mut s = sig;
        s.0[i] ^= 1;
        s
    };
    // s + L: the same signature with a non-canonical scalar.
    let l: [u8; 32] =
        from_hex::<32>("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
            .expect("hex");
    let mut s_plus_l = sig;
    let mut carry = 0u16;
    for (byte, add) in s_plus_l.0[32..].iter_mut().zip(l) {
        let v = u16::from(*byte) + u16::from(add) + carry;
        *byte = v as u8;
        carry = v >> 8;
    }
    let other = Keypair::from_label(SignatureScheme::Ed25519, "mn000").public();
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut zero_sig = [0u8; 64];
    zero_sig[0] = 1;
    for (name, key, m, s, note) in [
        ("flipped_r", pk, msg.clone(), flip(3), "one bit of R flipped"),
        ("flipped_s", pk, msg.clone(), flip(40), "one bit of s flipped"),
        ("other_message", pk, vec![0xaf, 0x83], sig, "a different message"),
        ("other_key", other, msg.clone(), sig, "another key"),
        ("s_plus_l", pk, msg.clone(), s_plus_l, "s replaced by s + L (non-canonical scalar; verify_strict refuses malleated signatures)"),
        ("all_zero", pk, msg.clone(), Signature([0; 64]), "an all-zero signature"),
        ("identity_key", PublicKey(identity), msg.clone(), Signature(zero_sig), "the identity point as key with R = identity and s = 0 (accepted by a lax verifier for every message; verify_strict refuses small-order keys)"),
    ] {
        g.case(
            &format!("verify_bad_{name}"),
            BOTH,
            &format!("RFC 8032 TEST 3 altered: {note}. Refused."),
            &["R0.4"],
            VerifyIn {
                public_key: key,
                message: Bytes(m),
                signature: s,
            },
        );
    }
    // Keys.
    let small_order = [
        (
            "identity",
            "0100000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            "order2",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        ),
        (
            "order4",
            "0000000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            "order8",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        ),
        (
            "not_a_point",
            "0202020202020202020202020202020202020202020202020202020202020202",
        ),
    ];
    for (name, hex) in small_order {
        g.case(
            &format!("register_key_{name}"),
            BOTH,
            &format!("Registering the key {hex}: small-order keys (under which signatures prove nothing) and non-points are refused."),
            &["R0.4", "R0.5"],
            RegisterKeyIn {
                public_key: PublicKey(from_hex::<32>(hex).expect("hex")),
            },
        );
    }
    for label in ["mn000", "192.168.1.2"] {
        g.case(
            &format!("register_key_good_{}", label.replace('.', "_")),
            BOTH,
            &format!("The key of {label:?} can be registered."),
            &["R0.4", "R0.5"],
            RegisterKeyIn {
                public_key: Keypair::from_label(SignatureScheme::Ed25519, label).public(),
            },
        );
    }
    // Authentication of each signed message kind.
    let ms = net(&TIERS4);
    let key = |l: &str| Keypair::from_label(SignatureScheme::Ed25519, l);
    let hb = |who: &str| {
        let h = Heartbeat {
            node_id: id(who),
            timestamp: 1_761_350_400,
            block_height: 0,
            chain_tip_hash: genesis_tip().hash,
            tier: Tier::Gold,
            version: "1.0.0".parse().expect("short"),
            reputation_milli: 1000,
            days_active: 297,
        };
        h.sign(&key(who))
    };
    let real = real_context(&context(net(&TIERS4), 1, RewardConfig::default(), 10));
    let block = Arc::new(real.build(BlockKind::Normal, &id("mn001"), &transfers(1)));
    let prop = |who: &str, valid_attempt| {
        let p = Proposal {
            height: 1,
            attempt: 0,
            proposer: id(who),
            block: block.clone(),
            valid_attempt,
            justification: None,
        };
        p.sign(&key(who))
    };
    let vote = |who: &str, step, approve, weight| {
        let v = Vote {
            height: 1,
            attempt: 2,
            step,
            voter: id(who),
            block_hash: block.hash(),
            approve,
            weight,
        };
        v.sign(&key(who))
    };
    let mut hb_forged = hb("mn001");
    hb_forged.resign(&key("mn002"));
    let mut hb_tampered = hb("mn001");
    hb_tampered.heartbeat.block_height = 1;
    let mut prop_forged = prop("mn001", None);
    prop_forged.resign(&key("mn009"));
    let mut prop_tampered = prop("mn001", None);
    prop_tampered.proposal.valid_attempt = Some(0);
    let mut vote_forged = vote("mn003", Step::Approve, true, 1);
    vote_forged.resign(&key("mn000"));
    let mut vote_tampered = vote("mn003", Step::Approve, true, 1);
    vote_tampered.vote.step = Step::Commit;
    for (name, m, note, ids) in [
        (
            "heartbeat",
            Message::Heartbeat(hb("mn000")),
            "a heartbeat signed by its sender",
            &["R0.5", "R1.1"][..],
        ),
        (
            "heartbeat_stranger",
            Message::Heartbeat(hb("mn009")),
            "a heartbeat from mn009, not registered",
            &["R0.5", "R1.1"],
        ),
        (
            "heartbeat_forged",
            Message::Heartbeat(hb_forged),
            "mn001's heartbeat signed with mn002's key",
            &["R0.5", "R1.1"],
        ),
        (
            "heartbeat_tampered",
            Message::Heartbeat(hb_tampered),
            "a heartbeat whose height changed after signing",
            &["R0.5", "R1.1"],
        ),
        (
            "proposal",
            Message::Proposal(prop("mn001", None)),
            "a proposal of a fresh block",
            &["R0.5", "R4.2"],
        ),
        (
            "proposal_reproposal",
            Message::Proposal(prop("mn001", Some(0))),
            "a re-proposal: valid_attempt 0 is signed (the justification signs itself)",
            &["R0.5", "R4.2"],
        ),
        (
            "proposal_stranger",
            Message::Proposal(prop("mn009", None)),
            "a proposal from mn009, not registered",
            &["R0.5", "R4.2"],
        ),
        (
            "proposal_forged",
            Message::Proposal(prop_forged),
            "mn001's proposal signed by mn009",
            &["R0.5", "R4.2"],
        ),
        (
            "proposal_tampered",
            Message::Proposal(prop_tampered),
            "a proposal whose valid_attempt was added after signing",
            &["R0.5", "R4.2"],
        ),
        (
            "vote_approve",
            Message::Vote(vote("mn003", Step::Approve, true, 1)),
            "an approve vote",
            &["R0.5", "R5.2"],
        ),
        (
            "vote_commit",
            Message::Vote(vote("mn002", Step::Commit, true, 200_000)),
            "a commit vote",
            &["R0.5", "R5.2"],
        ),
        (
            "vote_against",
            Message::Vote(vote("mn002", Step::Approve, false, 2)),
            "a seed-style vote against (approve = false)",
            &["R0.5", "R5.2"],
        ),
        (
            "vote_stranger",
            Message::Vote(vote("mn009", Step::Approve, true, 1)),
            "a vote from mn009, not registered",
            &["R0.5", "R5.2"],
        ),
        (
            "vote_forged",
            Message::Vote(vote_forged),
            "mn003's vote signed with mn000's key",
            &["R0.5", "R5.2"],
        ),
        (
            "vote_tampered",
            Message::Vote(vote_tampered),
            "an approve vote relabelled as a commit vote after signing",
            &["R0.5", "R5.2"],
        ),
    ] {
        g.case(
            &format!("authenticate_{name}"),
            BOTH,
            &format!("Authentication against mn000..mn003: {note}. The output gives the exact signing bytes."),
            ids,
            AuthenticateIn {
                masternodes: ms.clone(),
                message: m,
            },
        );
    }
}
