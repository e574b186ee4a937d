//! Chat attachments: which files may be sent (by extension AND by their sniffed content),
//! the size budget of one chat, and the PCI DSS scan for card numbers, all without I/O
//! (the API hands the bytes in; the store and the data directory keep them).
//!
//! What the scan reads: the raw bytes of every file (so text-like files, uncompressed PDF
//! text, images' text metadata); the text of UTF-16LE runs (legacy Office binaries store
//! their text that way); PDF `FlateDecode` streams inflated; every zip entry (OOXML
//! documents, `.zip` archives) inflated with its XML tags stripped. What it cannot read:
//! text drawn with font-specific encodings in PDFs (hex glyph ids), text in images (no
//! OCR), numbers stored as binary values in legacy `.xls` cells, other PDF filters
//! (LZW, ASCII85 ...), and nested archives beyond one level. Encrypted zip entries are
//! refused, since they cannot be checked.

use super::masking::has_card_number;
use std::io::Read;

pub use crate::config::{FileRules, KNOWN_TYPES};

/// Most bytes inflated while scanning one file (a zip bomb is refused, not scanned).
const MAX_INFLATED: u64 = 256 * 1024 * 1024;

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachError {
    #[error("the file name must be 1-200 characters without control characters or slashes")]
    BadName,
    #[error("files of type {0:?} may not be sent (allowed: {1})")]
    TypeNotAllowed(String, String),
    #[error("the file's content is not a {0} file")]
    ContentMismatch(String),
    #[error("the file is empty")]
    Empty,
    #[error("the chat's attachments may total at most {max} bytes; {used} are used and this file has {size}")]
    TooLarge { used: u64, size: u64, max: u64 },
    #[error(
        "the file holds a card number and was not sent (card numbers must not be sent in a chat)"
    )]
    CardNumber,
    #[error("the file cannot be checked for card numbers ({0}) and was not sent")]
    Unscannable(String),
}

impl AttachError {
    pub fn code(&self) -> &'static str {
        match self {
            AttachError::BadName => "bad_name",
            AttachError::TypeNotAllowed(..) => "type_not_allowed",
            AttachError::ContentMismatch(_) => "content_mismatch",
            AttachError::Empty => "empty_file",
            AttachError::TooLarge { .. } => "too_large",
            AttachError::CardNumber => "card_number",
            AttachError::Unscannable(_) => "unscannable",
        }
    }
}

/// A checked file name: trimmed, no path, no control characters; and its extension.
pub fn check_name(name: &str) -> Result<(String, String), AttachError> {
    let name = name.trim();
    let n = name.chars().count();
    if !(1..=200).contains(&n)
        || name
            .chars()
            .any(|c| c.is_control() || c == '/' || c == '\\')
        || name.starts_with('.')
    {
        return Err(AttachError::BadName);
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    Ok((name.to_string(), ext))
}

/// The media type a checked extension is served with.
pub fn content_type(ext: &str) -> &'static str {
    match ext {
        "pdf" => "application/pdf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "txt" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "rtf" => "application/rtf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        "tif" | "tiff" => "image/tiff",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

const OLE: &[u8] = &[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

fn is_zip(b: &[u8]) -> bool {
    b.starts_with(b"PK\x03\x04") || b.starts_with(b"PK\x05\x06")
}

/// The names of a zip's entries, if it is one.
fn zip_names(b: &[u8]) -> Option<Vec<String>> {
    let archive = zip::ZipArchive::new(std::io::Cursor::new(b)).ok()?;
    archive
        .file_names()
        .map(|n| n.ok().map(|n| n.into_owned()))
        .collect()
}

/// Whether `bytes` look like a file of type `ext` (its magic numbers; for text, no NUL
/// and no other format's signature).
pub fn content_matches(ext: &str, b: &[u8]) -> bool {
    let ooxml = |dir: &str| {
        is_zip(b)
            && zip_names(b).is_some_and(|names| {
                names.iter().any(|n| n == "[Content_Types].xml")
                    && names.iter().any(|n| n.starts_with(dir))
            })
    };
    match ext {
        "pdf" => b.starts_with(b"%PDF-"),
        "doc" | "xls" | "ppt" => b.starts_with(OLE),
        "docx" => ooxml("word/"),
        "xlsx" => ooxml("xl/"),
        "pptx" => ooxml("ppt/"),
        "zip" => is_zip(b) && zip_names(b).is_some(),
        "rtf" => b.starts_with(b"{\\rtf"),
        "png" => b.starts_with(b"\x89PNG\r\n\x1a\n"),
        "jpg" | "jpeg" => b.starts_with(&[0xff, 0xd8, 0xff]),
        "gif" => b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a"),
        "bmp" => b.starts_with(b"BM"),
        "tif" | "tiff" => b.starts_with(b"II*\0") || b.starts_with(b"MM\0*"),
        "txt" | "csv" => {
            !b.contains(&0)
                && !is_zip(b)
                && !b.starts_with(OLE)
                && !b.starts_with(b"MZ")
                && !b.starts_with(b"\x7fELF")
                && !b.starts_with(b"%PDF-")
        }
        _ => false,
    }
}

impl FileRules {
    /// The extension of an allowed file name; refuses other types.
    pub fn check_type(&self, name: &str) -> Result<(String, String), AttachError> {
        let (name, ext) = check_name(name)?;
        if ext.is_empty() || !self.types.contains(&ext) {
            let shown = if ext.is_empty() { "(none)".into() } else { ext };
            return Err(AttachError::TypeNotAllowed(shown, self.types.join(", ")));
        }
        Ok((name, ext))
    }

    /// Whether `size` more bytes fit when `used` are spent.
    pub fn admit(&self, used: u64, size: u64) -> Result<(), AttachError> {
        if used.saturating_add(size) > self.max_total_bytes {
            return Err(AttachError::TooLarge {
                used,
                size,
                max: self.max_total_bytes,
            });
        }
        Ok(())
    }

    /// The whole check of an uploaded file (size already admitted): type, content, cards.
    /// Returns its checked name and extension.
    pub fn check_file(&self, name: &str, bytes: &[u8]) -> Result<(String, String), AttachError> {
        let (name, ext) = self.check_type(name)?;
        if bytes.is_empty() {
            return Err(AttachError::Empty);
        }
        if !content_matches(&ext, bytes) {
            return Err(AttachError::ContentMismatch(ext));
        }
        if has_card_number(&name) || scan(bytes)? {
            return Err(AttachError::CardNumber);
        }
        Ok((name, ext))
    }
}

/// Whether a byte slice holds a card number: every maximal run of ASCII digits, spaces
/// and dashes is checked by [`has_card_number`] (which only joins groups inside such runs).
pub fn bytes_have_card(b: &[u8]) -> bool {
    let mut start = None;
    let mut digits = 0usize;
    for (i, &c) in b.iter().chain(std::iter::once(&b'\n')).enumerate() {
        if c.is_ascii_digit() || c == b' ' || c == b'-' {
            start.get_or_insert(i);
            if c.is_ascii_digit() {
                digits += 1;
            }
        } else if let Some(s) = start.take() {
            if digits >= 13 {
                let run = std::str::from_utf8(&b[s..i]).unwrap_or("");
                if has_card_number(run) {
                    return true;
                }
            }
            digits = 0;
        }
    }
    false
}

/// The ASCII of UTF-16LE text at either alignment (other code units become breaks).
fn utf16_ascii(b: &[u8], offset: usize) -> Vec<u8> {
    b.get(offset..)
        .unwrap_or(&[])
        .chunks_exact(2)
        .map(|p| {
            if p[1] == 0 && p[0].is_ascii() {
                p[0]
            } else {
                b'\n'
            }
        })
        .collect()
}

/// XML with its tags removed; a tag ending a paragraph, cell or row becomes a line break
/// (so adjacent cells do not join), others vanish (runs inside one paragraph do join).
fn xml_text(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() / 2);
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'<' {
            let end = b[i..]
                .iter()
                .position(|&c| c == b'>')
                .map_or(b.len(), |p| i + p);
            let tag = &b[i + 1..end.min(b.len())];
            let name: Vec<u8> = tag
                .iter()
                .copied()
                .skip_while(|&c| c == b'/')
                .take_while(|c| !c.is_ascii_whitespace() && *c != b'/' && *c != b'>')
                .collect();
            let local = name.rsplit(|&c| c == b':').next().unwrap_or(&[]);
            if matches!(
                local,
                b"p" | b"c" | b"si" | b"row" | b"tc" | b"tr" | b"br" | b"tab" | b"cr" | b"v"
            ) {
                out.push(b'\n');
            }
            i = end + 1;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Whether text-ish bytes hold a card: raw, and as UTF-16LE.
fn text_has_card(b: &[u8]) -> bool {
    bytes_have_card(b) || bytes_have_card(&utf16_ascii(b, 0)) || bytes_have_card(&utf16_ascii(b, 1))
}

/// Inflated PDF streams (zlib, as `FlateDecode` writes them).
fn pdf_streams_have_card(b: &[u8], budget: &mut u64) -> Result<bool, AttachError> {
    let mut i = 0;
    while let Some(p) = find(&b[i..], b"stream") {
        let mut s = i + p + b"stream".len();
        if b.get(s) == Some(&b'\r') {
            s += 1;
        }
        if b.get(s) == Some(&b'\n') {
            s += 1;
        }
        let e = find(&b[s..], b"endstream").map_or(b.len(), |q| s + q);
        let mut out = Vec::new();
        let limit = (*budget).min(MAX_INFLATED);
        let read = flate2::read::ZlibDecoder::new(&b[s..e])
            .take(limit + 1)
            .read_to_end(&mut out);
        if read.is_ok() || !out.is_empty() {
            if out.len() as u64 > limit {
                return Err(AttachError::Unscannable("it inflates to too much".into()));
            }
            *budget = budget.saturating_sub(out.len() as u64);
            if text_has_card(&out) {
                return Ok(true);
            }
        }
        i = e;
    }
    Ok(false)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A zip's entries, inflated (bounded), XML stripped of tags; nested zips one level deep.
fn zip_has_card(b: &[u8], depth: u8, budget: &mut u64) -> Result<bool, AttachError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(b))
        .map_err(|e| AttachError::Unscannable(format!("a damaged archive: {e}")))?;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| AttachError::Unscannable(format!("an unreadable entry: {e}")))?;
        if entry.encrypted() {
            return Err(AttachError::Unscannable("an encrypted entry".into()));
        }
        if entry.is_dir() {
            continue;
        }
        let name = entry
            .name()
            .map(|n| n.to_ascii_lowercase())
            .unwrap_or_default();
        if has_card_number(&name) {
            return Ok(true);
        }
        let mut out = Vec::new();
        (&mut entry)
            .take(*budget + 1)
            .read_to_end(&mut out)
            .map_err(|e| AttachError::Unscannable(format!("an unreadable entry: {e}")))?;
        if out.len() as u64 > *budget {
            return Err(AttachError::Unscannable("it inflates to too much".into()));
        }
        *budget -= out.len() as u64;
        let found = if name.ends_with(".xml") || name.ends_with(".rels") {
            bytes_have_card(&xml_text(&out))
        } else if depth == 0 && is_zip(&out) {
            zip_has_card(&out, depth + 1, budget)?
        } else if out.starts_with(b"%PDF-") {
            text_has_card(&out) || pdf_streams_have_card(&out, budget)?
        } else {
            text_has_card(&out)
        };
        if found {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether the file holds a card number, as far as it can be read (see the module doc).
pub fn scan(b: &[u8]) -> Result<bool, AttachError> {
    if text_has_card(b) {
        return Ok(true);
    }
    let mut budget = MAX_INFLATED;
    if b.starts_with(b"%PDF-") {
        return pdf_streams_have_card(b, &mut budget);
    }
    if is_zip(b) {
        return zip_has_card(b, 0, &mut budget);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn rules() -> FileRules {
        FileRules {
            types: KNOWN_TYPES.iter().map(|s| s.to_string()).collect(),
            max_total_bytes: 1000,
        }
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, body) in entries {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(body).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn types_are_checked_by_extension_and_content() {
        let r = rules();
        assert!(r.check_file("photo.PNG", PNG).is_ok());
        assert_eq!(
            r.check_file("setup.exe", b"MZ\x90\0"),
            Err(AttachError::TypeNotAllowed(
                "exe".into(),
                KNOWN_TYPES.join(", ")
            ))
        );
        assert_eq!(
            r.check_file("setup.pdf", b"MZ\x90\0"),
            Err(AttachError::ContentMismatch("pdf".into()))
        );
        assert_eq!(
            r.check_file("a.txt", b"MZ\x90\0\x03"),
            Err(AttachError::ContentMismatch("txt".into()))
        );
        assert!(r.check_file("notes.txt", "plain text é".as_bytes()).is_ok());
        assert!(r.check_file("doc.pdf", b"%PDF-1.4\n%%EOF").is_ok());
        assert_eq!(r.check_file("empty.txt", b""), Err(AttachError::Empty));
        assert_eq!(r.check_file("../x.txt", b"a"), Err(AttachError::BadName));
        assert_eq!(r.check_file(".txt", b"a"), Err(AttachError::BadName));
        let docx = zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", b"<w:document/>"),
        ]);
        assert!(r.check_file("letter.docx", &docx).is_ok());
        assert_eq!(
            r.check_file("letter.xlsx", &docx),
            Err(AttachError::ContentMismatch("xlsx".into()))
        );
        assert!(r.check_file("bundle.zip", &docx).is_ok());
        let only_png = FileRules {
            types: vec!["png".into()],
            ..rules()
        };
        assert!(matches!(
            only_png.check_file("doc.pdf", b"%PDF-1.4"),
            Err(AttachError::TypeNotAllowed(..))
        ));
    }

    #[test]
    fn the_budget_is_per_chat_total() {
        let r = rules();
        assert!(r.admit(0, 1000).is_ok());
        assert!(r.admit(600, 400).is_ok());
        assert_eq!(
            r.admit(600, 401),
            Err(AttachError::TooLarge {
                used: 600,
                size: 401,
                max: 1000
            })
        );
        assert!(r.admit(u64::MAX, 1).is_err(), "no overflow");
    }

    #[test]
    fn card_numbers_are_found_in_text_utf16_pdf_and_office_files() {
        let r = rules();
        let card = "card 4111-1111-1111-1111 end";
        assert_eq!(
            r.check_file("c.txt", card.as_bytes()),
            Err(AttachError::CardNumber)
        );
        assert_eq!(
            r.check_file("c.csv", b"name,card\nAnn,4111111111111111\n"),
            Err(AttachError::CardNumber)
        );
        assert!(r.check_file("ok.csv", b"order,4111111111111112\n").is_ok());
        assert_eq!(
            r.check_file("4111111111111111.txt", b"hi"),
            Err(AttachError::CardNumber),
            "in the name"
        );
        // Legacy Office: UTF-16LE text in an OLE file.
        let mut doc = OLE.to_vec();
        doc.extend(card.encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(r.check_file("c.doc", &doc), Err(AttachError::CardNumber));
        // A PDF with the text in a FlateDecode stream.
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"BT (4111 1111 1111 1111) Tj ET").unwrap();
        let mut pdf = b"%PDF-1.4\n1 0 obj <</Filter /FlateDecode>> stream\n".to_vec();
        pdf.extend(z.finish().unwrap());
        pdf.extend(b"\nendstream endobj\n%%EOF");
        assert_eq!(r.check_file("c.pdf", &pdf), Err(AttachError::CardNumber));
        // A docx whose number is split over runs.
        let xml = b"<w:p><w:r><w:t>4111 1111</w:t></w:r><w:r><w:t> 1111 1111</w:t></w:r></w:p>";
        let docx = zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", xml),
        ]);
        assert_eq!(r.check_file("c.docx", &docx), Err(AttachError::CardNumber));
        // Adjacent spreadsheet cells do not join into a number.
        let sheet = b"<row><c><v>411111</v></c><c><v>1111111111</v></c></row>";
        let xlsx = zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("xl/sheet1.xml", sheet),
        ]);
        assert!(r.check_file("ok.xlsx", &xlsx).is_ok());
        // A zip in a zip.
        let inner = zip_of(&[("secret.txt", card.as_bytes())]);
        let outer = zip_of(&[("inner.zip", &inner)]);
        assert_eq!(r.check_file("c.zip", &outer), Err(AttachError::CardNumber));
    }

    #[test]
    fn scanning_never_panics_on_damaged_files() {
        for b in [
            &b"PK\x03\x04garbage"[..],
            b"%PDF-1.4 stream\nxx",
            b"%PDF-1.4 stream",
            b"<",
            b"",
        ] {
            let _ = scan(b);
            let _ = xml_text(b);
        }
    }
}
