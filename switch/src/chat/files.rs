//! Chat attachments at the edges: the files under `data_dir/attachments/` (written to a
//! `.part` name, synced, then renamed, so the index never names a half-written file), the
//! customer's per-chat token, and the transcript as stored (lines and files in time order).
//! The rules a file must meet are in [`super::attachment`], without I/O.

use super::attachment::content_type;
use super::message::{FileRef, Message, Role};
use crate::store::{Store, StoreError, StoredAttachment};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The header a customer's page sends its chat token in.
pub const TOKEN_HEADER: &str = "x-chat-token";

/// Who sends a file into a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// The chat's customer (who showed the chat's token).
    Customer,
    /// The agent working the chat, or its conference guest.
    Agent(acd::AgentId),
}

/// A checked file, written to its temporary name, for the chat task to admit and index.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub id: String,
    pub name: String,
    pub ext: String,
    pub size: u64,
    /// The `.part` file holding the bytes.
    pub temp: PathBuf,
    /// Its name once admitted.
    pub path: PathBuf,
}

/// 32 hex digits of fresh randomness: an attachment's id and file name.
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A new customer token (`chat_` and 64 hex digits); the store keeps only its digest.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("chat_{}", hex::encode(bytes))
}

/// The SHA-256 of a token, hex.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// Whether `token` is the one whose digest is `digest` (compared in constant time).
pub fn token_matches(token: &str, digest: &str) -> bool {
    let got = token_digest(token);
    got.len() == digest.len()
        && got
            .bytes()
            .zip(digest.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Whether `id` has the form of an attachment id (so it is safe as a file name).
pub fn is_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The directory of the attachments' files.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("attachments")
}

/// Writes `bytes` to `<id>.part` in the attachments' directory and syncs it; returns the
/// file to index (not yet renamed: the chat task does that once it admits the file).
pub async fn write_temp(
    data_dir: &Path,
    id: String,
    name: String,
    ext: String,
    bytes: &[u8],
) -> std::io::Result<NewFile> {
    use tokio::io::AsyncWriteExt;
    let dir = dir(data_dir);
    tokio::fs::create_dir_all(&dir).await?;
    let temp = dir.join(format!("{id}.part"));
    let mut f = tokio::fs::File::create(&temp).await?;
    let written = async {
        f.write_all(bytes).await?;
        f.sync_all().await
    }
    .await;
    if let Err(e) = written {
        let _ = tokio::fs::remove_file(&temp).await;
        return Err(e);
    }
    Ok(NewFile {
        path: dir.join(&id),
        id,
        name,
        ext,
        size: bytes.len() as u64,
        temp,
    })
}

/// Gives an admitted file its final name (and syncs the directory where that is possible).
pub async fn commit(file: &NewFile) -> std::io::Result<()> {
    tokio::fs::rename(&file.temp, &file.path).await?;
    if let Some(dir) = file.path.parent() {
        if let Ok(d) = tokio::fs::File::open(dir).await {
            let _ = d.sync_all().await;
        }
    }
    Ok(())
}

/// Removes what a crash left half-written (`*.part`); returns how many.
pub fn clean_partials(data_dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir(data_dir)) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

/// How an indexed file is shown in a transcript.
pub fn file_ref(a: &StoredAttachment) -> FileRef {
    FileRef {
        id: a.id.clone(),
        name: a.name.clone(),
        size: a.size,
        content_type: content_type(&a.ext).to_string(),
        url: format!("/api/chats/{}/attachments/{}", a.chat, a.id),
    }
}

/// The transcript entry announcing an indexed file.
pub fn entry(a: &StoredAttachment) -> Message {
    Message {
        sender: a.sender.clone(),
        role: Role::parse(&a.role).unwrap_or(Role::Customer),
        text: a.name.clone(),
        at_ms: a.at_ms,
        attachment: Some(file_ref(a)),
    }
}

/// A chat's stored transcript: its lines and its files, in time order (a file after the
/// lines of the same millisecond).
pub async fn transcript(store: &Store, chat: u64) -> Result<Vec<Message>, StoreError> {
    let lines = store.chat_messages(chat).await?;
    let files = store.attachments(chat).await?;
    let mut out = Vec::with_capacity(lines.len() + files.len());
    let mut files = files.iter().peekable();
    for l in lines {
        while let Some(f) = files.next_if(|f| f.at_ms < l.at_ms) {
            out.push(entry(f));
        }
        let Some(role) = Role::parse(&l.role) else {
            continue;
        };
        out.push(Message {
            sender: l.sender,
            role,
            text: l.text,
            at_ms: l.at_ms,
            attachment: None,
        });
    }
    out.extend(files.map(entry));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_checked_by_digest() {
        let a = new_token();
        assert!(a.starts_with("chat_") && a.len() == 69, "{a}");
        assert_ne!(a, new_token());
        let d = token_digest(&a);
        assert!(token_matches(&a, &d));
        assert!(!token_matches(&new_token(), &d));
        assert!(!token_matches("", &d));
        assert!(is_id(&new_id()));
        assert!(!is_id("../../etc/passwd"));
        assert!(!is_id(&"A".repeat(32)));
    }

    #[tokio::test]
    async fn a_file_is_written_under_a_temporary_name_then_renamed() {
        let data = std::env::temp_dir().join(format!("ccswitch_files_{}", new_id()));
        let f = write_temp(&data, new_id(), "a.txt".into(), "txt".into(), b"hello")
            .await
            .unwrap();
        assert!(f.temp.exists() && !f.path.exists());
        assert_eq!(f.size, 5);
        std::fs::write(dir(&data).join("crashed.part"), b"half").unwrap();
        commit(&f).await.unwrap();
        assert_eq!(std::fs::read(&f.path).unwrap(), b"hello");
        assert_eq!(clean_partials(&data), 1, "only the half-written one");
        assert!(f.path.exists());
        let _ = std::fs::remove_dir_all(&data);
    }
}
