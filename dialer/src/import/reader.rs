//! Splitting a CSV file into records, in bounded memory, and finding the next row again
//! after a bad line, so one mistake costs one row and never the rest of the file.
//!
//! The rules (RFC 4180, plus what a user can fix by line number):
//!
//! - Lines end at LF, CRLF or CR. Empty lines are skipped and not counted as rows.
//! - Fields are separated by commas. A field that starts with `"` is quoted: `""` inside
//!   it is one quote, and it may hold commas and line breaks (stored as `\n`). After its
//!   closing quote only spaces or tabs may come before the next comma or the end of the
//!   record. A quote inside an unquoted field is kept as it is (`5" disk`).
//! - A record spans lines only inside a quoted field, and then for at most
//!   [`MAX_RECORD_LINES`] lines and [`MAX_ROW_BYTES`] bytes. Such a record is taken when
//!   its quote closes within those limits and the result is well formed with as many
//!   fields as the header. Otherwise only the line where the quote opened is reported
//!   ("unterminated quoted field") and reading starts again on the next line, which is
//!   read as a row of its own: a stray quote swallows nothing.
//! - A line longer than [`MAX_ROW_BYTES`] is reported and skipped; it is never held in
//!   memory (the bytes past the limit are read and dropped).
//!
//! So the memory held is the lines of one record being assembled (at most about
//! [`MAX_ROW_BYTES`]) plus the buffered reader's buffer, whatever the file's size.

use std::collections::VecDeque;
use std::io::{self, BufRead};

/// Longest record accepted, in bytes (one line, or the lines of one multi-line record).
pub const MAX_ROW_BYTES: usize = 1 << 20;
/// Most lines one record may span (inside a quoted field).
pub const MAX_RECORD_LINES: usize = 100;

/// What the reader found next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A record starting on `line`; its fields are [`CsvReader::fields`].
    Record { line: u64 },
    /// A line that is not a record, and why.
    Bad { line: u64, reason: String },
    /// A line longer than [`MAX_ROW_BYTES`], skipped.
    TooLong { line: u64 },
}

/// One physical line: its number and content without the line break; `None` when it was
/// longer than [`MAX_ROW_BYTES`] (its bytes were dropped).
#[derive(Debug)]
struct Line {
    number: u64,
    text: Option<Vec<u8>>,
}

/// The fields of the current record: their bytes back to back, and where each ends.
#[derive(Debug, Default)]
pub struct Fields {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Fields {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.ends.iter().enumerate().map(|(i, &end)| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            &self.buf[start..end]
        })
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
    }

    fn end_field(&mut self) {
        self.ends.push(self.buf.len());
    }
}

/// Where the splitter is inside a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote seen inside a quoted field: an escaped quote or the closing one.
    QuoteInQuoted,
    /// After the closing quote, spaces or tabs only.
    AfterClose,
}

/// Splits one record fed a line at a time.
#[derive(Debug)]
struct Splitter {
    state: State,
    fields: Fields,
}

impl Splitter {
    fn start(&mut self) {
        self.state = State::FieldStart;
        self.fields.clear();
    }

    /// Feeds one line's content: `Ok(true)` when the record ends with it, `Ok(false)`
    /// when a quoted field goes on past it, `Err` when the line breaks the rules.
    fn feed(&mut self, line: &[u8]) -> Result<bool, String> {
        let f = &mut self.fields;
        let mut state = self.state;
        let mut i = 0;
        // Runs of plain bytes are copied whole; only separators and quotes are looked at.
        while let Some(rest) = line.get(i..).filter(|r| !r.is_empty()) {
            match state {
                State::FieldStart if rest[0] == b'"' => {
                    state = State::Quoted;
                    i += 1;
                }
                State::FieldStart | State::Unquoted => {
                    let n = rest.iter().position(|&b| b == b',').unwrap_or(rest.len());
                    f.buf.extend_from_slice(&rest[..n]);
                    i += n;
                    if i < line.len() {
                        f.end_field();
                        i += 1;
                        state = State::FieldStart;
                    } else {
                        state = State::Unquoted;
                    }
                }
                State::Quoted => {
                    let n = rest.iter().position(|&b| b == b'"').unwrap_or(rest.len());
                    f.buf.extend_from_slice(&rest[..n]);
                    i += n;
                    if i < line.len() {
                        i += 1;
                        state = State::QuoteInQuoted;
                    }
                }
                State::QuoteInQuoted | State::AfterClose => {
                    state = match rest[0] {
                        b'"' if state == State::QuoteInQuoted => {
                            f.buf.push(b'"');
                            State::Quoted
                        }
                        b',' => {
                            f.end_field();
                            State::FieldStart
                        }
                        b' ' | b'\t' => State::AfterClose,
                        _ => {
                            return Err(format!(
                                "field {}: text after the closing quote",
                                f.len() + 1
                            ))
                        }
                    };
                    i += 1;
                }
            }
        }
        if state == State::Quoted {
            f.buf.push(b'\n');
            self.state = state;
            return Ok(false);
        }
        f.end_field();
        self.state = State::FieldStart;
        Ok(true)
    }
}

/// Reads records from a CSV file; see the module's rules.
pub struct CsvReader<R> {
    input: R,
    /// Lines given back after a failed multi-line record, read again first.
    pending: VecDeque<Line>,
    /// Number of the next line read from `input`.
    next_line: u64,
    /// The last line ended with CR: a LF right after it belongs to the same line break.
    after_cr: bool,
    eof: bool,
    bytes: u64,
    /// Fields a record must have for a multi-line record to be taken (the header's).
    width: Option<usize>,
    splitter: Splitter,
    /// The buffer of the last single-line record, reused for the next line.
    spare: Vec<u8>,
}

impl<R: BufRead> CsvReader<R> {
    pub fn new(input: R) -> CsvReader<R> {
        CsvReader {
            input,
            pending: VecDeque::new(),
            next_line: 1,
            after_cr: false,
            eof: false,
            bytes: 0,
            width: None,
            splitter: Splitter {
                state: State::FieldStart,
                fields: Fields::default(),
            },
            spare: Vec::new(),
        }
    }

    /// The header's number of fields: a multi-line record must have as many.
    pub fn set_width(&mut self, width: usize) {
        self.width = Some(width);
    }

    /// Bytes of the file read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The fields of the record last returned.
    pub fn fields(&self) -> &Fields {
        &self.splitter.fields
    }

    /// The next record or bad line; `None` at the end of the file.
    pub fn next_item(&mut self) -> io::Result<Option<Item>> {
        loop {
            let Some(first) = self.take_line()? else {
                return Ok(None);
            };
            let line = first.number;
            let Some(text) = &first.text else {
                return Ok(Some(Item::TooLong { line }));
            };
            if text.is_empty() {
                continue;
            }
            self.splitter.start();
            let item = match self.splitter.feed(text) {
                Ok(true) => Item::Record { line },
                Ok(false) => return self.multi_line(first).map(Some),
                Err(reason) => Item::Bad { line, reason },
            };
            if let Some(text) = first.text {
                self.spare = text;
            }
            return Ok(Some(item));
        }
    }

    /// Goes on with a record whose quoted field did not close on its first line.
    fn multi_line(&mut self, first: Line) -> io::Result<Item> {
        let line = first.number;
        let mut size = first.text.as_ref().map_or(0, Vec::len);
        let mut taken = vec![first];
        let why = loop {
            if taken.len() >= MAX_RECORD_LINES {
                break format!("it is not closed within {MAX_RECORD_LINES} lines");
            }
            let Some(next) = self.take_line()? else {
                break "it is not closed before the end of the file".to_string();
            };
            let number = next.number;
            let Some(text) = &next.text else {
                taken.push(next);
                break format!("line {number} is longer than {MAX_ROW_BYTES} bytes");
            };
            size += text.len() + 1;
            if size > MAX_ROW_BYTES {
                taken.push(next);
                break format!("the row would be longer than {MAX_ROW_BYTES} bytes");
            }
            let fed = self.splitter.feed(text);
            taken.push(next);
            match fed {
                Ok(false) => continue,
                Err(e) => break format!("line {number}, {e}"),
                Ok(true) => {
                    let found = self.splitter.fields.len();
                    match self.width {
                        Some(width) if width != found => {
                            break format!(
                                "closed on line {number}, the row would have {found} fields, not {width}"
                            )
                        }
                        _ => return Ok(Item::Record { line }),
                    }
                }
            }
        };
        // Read the lines after the opening one again, as rows of their own.
        for l in taken.into_iter().skip(1).rev() {
            self.pending.push_front(l);
        }
        self.splitter.fields.clear();
        Ok(Item::Bad {
            line,
            reason: format!(
                "unterminated quoted field: the quote opened on this line does not close \
                 into a well-formed row ({why}); the lines after it are read as rows"
            ),
        })
    }

    fn take_line(&mut self) -> io::Result<Option<Line>> {
        if let Some(l) = self.pending.pop_front() {
            return Ok(Some(l));
        }
        self.read_line()
    }

    /// Reads one line from the input, dropping what goes past [`MAX_ROW_BYTES`].
    fn read_line(&mut self) -> io::Result<Option<Line>> {
        if self.eof {
            return Ok(None);
        }
        let mut buf = std::mem::take(&mut self.spare);
        buf.clear();
        let mut text = Some(buf);
        let mut any = false;
        loop {
            let buf = match self.input.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                self.eof = true;
                if !any {
                    return Ok(None);
                }
                break;
            }
            if std::mem::take(&mut self.after_cr) && buf[0] == b'\n' {
                self.input.consume(1);
                self.bytes += 1;
                continue;
            }
            any = true;
            let end = buf.iter().position(|&b| b == b'\n' || b == b'\r');
            let chunk = &buf[..end.unwrap_or(buf.len())];
            if let Some(t) = &mut text {
                if t.len() + chunk.len() > MAX_ROW_BYTES {
                    text = None;
                } else {
                    t.extend_from_slice(chunk);
                }
            }
            let used = match end {
                Some(i) => {
                    self.after_cr = buf[i] == b'\r';
                    i + 1
                }
                None => buf.len(),
            };
            self.input.consume(used);
            self.bytes += used as u64;
            if end.is_some() {
                break;
            }
        }
        let number = self.next_line;
        self.next_line += 1;
        Ok(Some(Line { number, text }))
    }
}

#[cfg(test)]
mod tests;
