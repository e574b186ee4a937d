//! The CSV reader's rules, line by line.

use super::*;

/// A record (its line and fields) or a bad line (its line and reason).
type Read = Result<(u64, Vec<String>), (u64, String)>;

/// Every item of `csv` with the header width `width`: records as their fields (lossy
/// UTF-8), bad lines as `Err((line, reason))`.
fn read(csv: &[u8], width: Option<usize>) -> Vec<Read> {
    let mut r = CsvReader::new(std::io::BufReader::with_capacity(7, csv));
    if let Some(w) = width {
        r.set_width(w);
    }
    let mut out = Vec::new();
    while let Some(item) = r.next_item().unwrap() {
        out.push(match item {
            Item::Record { line } => Ok((
                line,
                r.fields()
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect(),
            )),
            Item::Bad { line, reason } => Err((line, reason)),
            Item::TooLong { line } => Err((line, "longer than the limit".to_string())),
        });
    }
    assert_eq!(r.bytes(), csv.len() as u64, "every byte is counted");
    out
}

fn row(line: u64, fields: &[&str]) -> Read {
    Ok((line, fields.iter().map(|f| f.to_string()).collect()))
}

fn bad_lines(items: &[Read]) -> Vec<u64> {
    items
        .iter()
        .filter_map(|i| i.as_ref().err().map(|(l, _)| *l))
        .collect()
}

#[test]
fn plain_rows_line_breaks_and_blank_lines() {
    let items = read(b"a,b,c\r\n1,,3\n\n\r\nx,\"y,z\",\"q\"\"q\"\r4,5,\n", None);
    assert_eq!(
        items,
        vec![
            row(1, &["a", "b", "c"]),
            row(2, &["1", "", "3"]),
            // Lines 3 and 4 are blank: skipped, but counted as lines.
            row(5, &["x", "y,z", "q\"q"]),
            row(6, &["4", "5", ""]),
        ]
    );
    // No line break at the end of the file; a quote inside an unquoted field is kept.
    assert_eq!(read(b"5\" disk,b", None), vec![row(1, &["5\" disk", "b"])]);
    assert_eq!(read(b"", None), vec![]);
    assert_eq!(read(b"\n\n", None), vec![]);
}

#[test]
fn a_quoted_field_may_span_lines() {
    let items = read(
        b"id,name,phone\n1,\"Ada\r\nLovelace\",+44\n2,Bob,+45\n",
        Some(3),
    );
    assert_eq!(
        items,
        vec![
            row(1, &["id", "name", "phone"]),
            row(2, &["1", "Ada\nLovelace", "+44"]),
            row(4, &["2", "Bob", "+45"]),
        ]
    );
}

#[test]
fn an_unterminated_quote_costs_its_own_line_only() {
    // The file: the quote opened on line 6 never closes.
    let mut csv = String::from("id,name,phone\n");
    for i in 2..=11 {
        if i == 6 {
            csv.push_str("6,\"Fay,+446\n");
        } else {
            csv.push_str(&format!("{i},N{i},+44{i}\n"));
        }
    }
    let items = read(csv.as_bytes(), Some(3));
    assert_eq!(items.len(), 11, "header + 10 rows: {items:?}");
    assert_eq!(bad_lines(&items), vec![6]);
    let Err((_, reason)) = &items[5] else {
        panic!("{items:?}")
    };
    assert!(reason.starts_with("unterminated quoted field"), "{reason}");
    assert!(reason.contains("end of the file"), "{reason}");
    assert_eq!(items[6], row(7, &["7", "N7", "+447"]));
    assert_eq!(items[10], row(11, &["11", "N11", "+4411"]));
}

#[test]
fn a_quote_closed_by_a_later_line_is_not_taken_unless_the_row_is_well_formed() {
    // Line 2's stray quote is "closed" by the quote on line 4, but text follows it.
    let items = read(
        b"id,name,phone\n1,\"Ada,+441\n2,Bob,+442\n3,\"Cy\",+443\n",
        Some(3),
    );
    assert_eq!(bad_lines(&items), vec![2]);
    let Err((_, reason)) = &items[1] else {
        panic!("{items:?}")
    };
    assert!(reason.contains("line 4, field 2: text after the closing quote"));
    assert_eq!(items[2], row(3, &["2", "Bob", "+442"]));
    assert_eq!(items[3], row(4, &["3", "Cy", "+443"]));

    // Closed with a separator after it, but the row has the wrong number of fields.
    let items = read(b"id,name,phone\n1,\"Ada,+441\n2,\",+442,x\n", Some(3));
    let Err((2, reason)) = &items[1] else {
        panic!("{items:?}")
    };
    assert!(reason.contains("closed on line 3, the row would have 4 fields, not 3"));
    assert_eq!(items[2].as_ref().err().map(|e| e.0), Some(3));
}

#[test]
fn a_record_spans_a_bounded_number_of_lines() {
    let mut csv = b"id,note\n1,\"".to_vec();
    for _ in 0..MAX_RECORD_LINES + 5 {
        csv.extend_from_slice(b"x\n");
    }
    csv.extend_from_slice(b"\"\n");
    let items = read(&csv, Some(2));
    let Err((2, reason)) = &items[1] else {
        panic!("{:?}", &items[..2])
    };
    assert!(reason.contains(&format!("within {MAX_RECORD_LINES} lines")));
    // The x lines after line 2 are read again as rows (of one field each); the closing
    // quote's line opens a field that never closes.
    assert_eq!(items[2], row(3, &["x"]));
    assert_eq!(items.len(), 2 + (MAX_RECORD_LINES + 4) + 1);
    assert_eq!(bad_lines(&items), vec![2, MAX_RECORD_LINES as u64 + 7]);
}

#[test]
fn over_long_lines_are_reported_and_skipped_in_bounded_memory() {
    let mut csv = b"id,note\n1,".to_vec();
    csv.extend(std::iter::repeat_n(b'x', MAX_ROW_BYTES + 10));
    csv.extend_from_slice(b"\n2,ok\n3,\"");
    csv.extend(std::iter::repeat_n(b'y', MAX_ROW_BYTES - 5));
    csv.extend_from_slice(b"\nmore\"\n4,ok\n");
    let items = read(&csv, Some(2));
    let Err((2, reason)) = &items[1] else {
        panic!("{:?}", items.first())
    };
    assert!(reason.contains("longer than"), "{reason}");
    assert_eq!(items[2], row(3, &["2", "ok"]));
    // Line 4 opens a quote; with line 5 the row would pass the limit.
    let Err((4, reason)) = &items[3] else {
        panic!("{:?}", items.get(3).map(|i| i.as_ref().map(|r| r.0)))
    };
    assert!(reason.contains("longer than"), "{reason}");
    // Line 5 is read again as a row of its own (one field: too few, for the columns).
    assert_eq!(items[4], row(5, &["more\""]));
    assert_eq!(items[5], row(6, &["4", "ok"]));
    assert_eq!(bad_lines(&items), vec![2, 4]);
}

#[test]
fn text_after_a_closing_quote_is_a_bad_line_but_spaces_are_not() {
    let items = read(b"\"a\" ,\"b\"\t\n\"a\"x,b\n", None);
    assert_eq!(items[0], row(1, &["a", "b"]));
    assert_eq!(
        items[1],
        Err((2, "field 1: text after the closing quote".to_string()))
    );
}

proptest::proptest! {
    /// Whatever the bytes, the reader ends, never panics and counts every byte; lines
    /// come in increasing order.
    #[test]
    fn any_bytes(bytes in proptest::collection::vec(proptest::prop_oneof![
        proptest::strategy::Just(b'"'), proptest::strategy::Just(b','),
        proptest::strategy::Just(b'\n'), proptest::strategy::Just(b'\r'),
        proptest::strategy::Just(b'a'), proptest::strategy::Just(b' ')], 0..200)) {
        let items = read(&bytes, Some(2));
        let lines: Vec<u64> = items.iter().map(|i| match i { Ok((l, _)) | Err((l, _)) => *l }).collect();
        proptest::prop_assert!(lines.windows(2).all(|w| w[0] < w[1]), "{:?}", lines);
    }

    /// What the `csv` crate writes, this reader reads back field for field.
    #[test]
    fn round_trip(rows in proptest::collection::vec(
        proptest::collection::vec("[a-z\",\n ]{0,6}", 3), 1..8)) {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        for r in &rows {
            w.write_record(r).unwrap();
        }
        let bytes = w.into_inner().unwrap();
        let items = read(&bytes, Some(3));
        let got: Vec<Vec<String>> = items.into_iter().map(|i| i.unwrap().1).collect();
        // The writer quotes a lone empty field only when the record has one field; with
        // three fields an all-empty row is ",,", which is not a blank line.
        proptest::prop_assert_eq!(got, rows);
    }
}
