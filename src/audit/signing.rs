//! Signed chain heads: each installation has an Ed25519 key pair, made at its first start, and
//! signs every head it publishes (the head endpoint, the feed), so that customs can tell a head
//! this installation published from one written by anyone else.
//!
//! The signed message is the text `bonded-returns audit head\n{seq}\n{hash}\n` (UTF-8). The
//! private key is kept as 64 hex digits (its 32-byte seed) in a file only the service's user can
//! read (`BR_SIGNING_KEY`); the public key is published at `GET /api/v1/audit/key`.

use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use rand::RngCore;
use serde::Serialize;

use super::ChainHead;
use crate::error::AppError;

/// The text signed for a head.
pub fn message(seq: i64, hash: &str) -> String {
    format!("bonded-returns audit head\n{seq}\n{hash}\n")
}

/// The installation's key pair.
pub struct Signer {
    key: SigningKey,
}

/// A head with its signature, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SignedHead {
    pub seq: i64,
    pub hash: String,
    /// Ed25519 signature of `bonded-returns audit head\n{seq}\n{hash}\n`, 128 hex digits.
    pub signature: String,
    /// `SEQ:HASH:SIGNATURE`: keep it, and later run
    /// `bonded-returns audit verify --expect-head SEQ:HASH:SIGNATURE --public-key KEY`.
    pub expect_head: String,
}

impl Signer {
    /// The key in `path`, made there (readable by this user only) when the file does not exist.
    /// Refused when the file can be read by others, or is not a key.
    pub fn load_or_create(path: &Path) -> Result<Self, AppError> {
        let shown = path.display();
        match std::fs::read_to_string(path) {
            Ok(text) => {
                check_private(path)?;
                let seed = parse_seed(text.trim())
                    .map_err(|e| AppError::Startup(format!("signing key {shown}: {e}")))?;
                Ok(Self {
                    key: SigningKey::from_bytes(&seed),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(path),
            Err(e) => Err(AppError::Startup(format!(
                "cannot read the signing key {shown}: {e}"
            ))),
        }
    }

    /// The key in `path` when there is one (never made here).
    pub fn load(path: &Path) -> Result<Option<Self>, AppError> {
        if !path.exists() {
            return Ok(None);
        }
        Self::load_or_create(path).map(Some)
    }

    fn create(path: &Path) -> Result<Self, AppError> {
        let shown = path.display();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                AppError::Startup(format!("cannot make the folder of {shown}: {e}"))
            })?;
        }
        let mut seed = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut seed);
        // Written in full under a name of its own, then linked into place: another process
        // starting at the same moment never reads half a key, and the first link wins.
        let tmp = path.with_extension(format!(
            "tmp-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let written = options.open(&tmp).and_then(|mut f| {
            f.write_all(format!("{}\n", hex::encode(seed)).as_bytes())?;
            f.sync_all()
        });
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(AppError::Startup(format!("cannot write {shown}: {e}")));
        }
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                tracing::info!(path = %shown, "made the installation's signing key");
                Ok(Self {
                    key: SigningKey::from_bytes(&seed),
                })
            }
            // Another process (a second node) made it meanwhile: use that one.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load_or_create(path),
            Err(e) => Err(AppError::Startup(format!("cannot make {shown}: {e}"))),
        }
    }

    /// The public key, 64 hex digits.
    pub fn public_key(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    /// `head` with its signature.
    pub fn sign(&self, head: &ChainHead) -> SignedHead {
        let signature = hex::encode(
            self.key
                .sign(message(head.seq, &head.hash).as_bytes())
                .to_bytes(),
        );
        SignedHead {
            seq: head.seq,
            hash: head.hash.clone(),
            expect_head: format!("{}:{}:{signature}", head.seq, head.hash),
            signature,
        }
    }
}

fn parse_seed(text: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(text).map_err(|_| "not 64 hex digits".to_string())?;
    bytes
        .try_into()
        .map_err(|_| "not 64 hex digits (a 32-byte Ed25519 key)".to_string())
}

/// Refuses a key file that others than its owner may read or write.
fn check_private(path: &Path) -> Result<(), AppError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| AppError::Startup(format!("{}: {e}", path.display())))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(AppError::Startup(format!(
                "the signing key {} can be read by others (mode {:o}); chmod 600 it",
                path.display(),
                mode & 0o777
            )));
        }
    }
    Ok(())
}

/// Checks `signature` (128 hex digits) of the head `seq:hash` against `public_key` (64 hex
/// digits); `Err` says why it fails.
pub fn verify_head(public_key: &str, seq: i64, hash: &str, signature: &str) -> Result<(), String> {
    let key: [u8; 32] = hex::decode(public_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("the public key is not 64 hex digits")?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| "not an Ed25519 public key")?;
    let sig: [u8; 64] = hex::decode(signature.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("the signature is not 128 hex digits")?;
    key.verify(message(seq, hash).as_bytes(), &Signature::from_bytes(&sig))
        .map_err(|_| "the signature does not match this head and key".into())
}

/// The default place of the key: beside a SQLite database (`NAME.signing-key`), else
/// `data/audit-signing.key`.
pub fn default_path(sqlite_file: Option<&Path>) -> PathBuf {
    match sqlite_file {
        Some(db) => db.with_extension("signing-key"),
        None => PathBuf::from("data/audit-signing.key"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_kept_private_and_signs_heads_that_verify() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/audit.key");
        let a = Signer::load_or_create(&path).unwrap();
        let b = Signer::load_or_create(&path).unwrap();
        assert_eq!(a.public_key(), b.public_key(), "the key is kept");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(
                Signer::load_or_create(&path).is_err(),
                "a readable key is refused"
            );
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let head = ChainHead {
            seq: 42,
            hash: "ab".repeat(32),
        };
        let signed = a.sign(&head);
        assert_eq!(signed.signature.len(), 128);
        assert!(verify_head(&a.public_key(), 42, &head.hash, &signed.signature).is_ok());
        assert!(verify_head(&a.public_key(), 43, &head.hash, &signed.signature).is_err());
        let other = Signer::load_or_create(&dir.path().join("other.key")).unwrap();
        assert!(verify_head(&other.public_key(), 42, &head.hash, &signed.signature).is_err());
        std::fs::write(dir.path().join("bad.key"), "not a key").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                dir.path().join("bad.key"),
                std::fs::Permissions::from_mode(0o600),
            )
            .unwrap();
        }
        assert!(Signer::load_or_create(&dir.path().join("bad.key")).is_err());
    }
}
