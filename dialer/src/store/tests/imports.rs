//! Import batches and a file's duplicate external ids, on both engines.

use super::*;

fn rows(lines: &[(u64, usize)]) -> Vec<ImportRow> {
    lines
        .iter()
        .map(|&(line, i)| ImportRow {
            line,
            record: new_record(i),
        })
        .collect()
}

async fn a_file_repeating_an_external_id_keeps_its_first_line(db: &TestDb) {
    let s = &db.store;
    let c = s.create_campaign(&spec(), t0()).await.unwrap();
    // One batch: ext-1 on lines 2 and 4.
    let first = s
        .import_batch(c.id, 1, &rows(&[(2, 1), (3, 2), (4, 1)]), t0())
        .await
        .unwrap();
    assert_eq!(
        first.counts,
        ImportCounts {
            inserted: 2,
            updated: 0
        }
    );
    assert_eq!(
        first.duplicates,
        vec![Duplicate {
            line: 4,
            first_line: 2,
            external_id: "ext-1".into()
        }]
    );
    // A later batch of the same import: ext-2 again (line 3 had it), ext-3 is new.
    let second = s
        .import_batch(c.id, 1, &rows(&[(5, 3), (6, 2)]), t0())
        .await
        .unwrap();
    assert_eq!((second.counts.inserted, second.counts.updated), (1, 0));
    assert_eq!(
        second.duplicates,
        vec![Duplicate {
            line: 6,
            first_line: 3,
            external_id: "ext-2".into()
        }]
    );
    // Another import of the same ids updates them.
    let again = s
        .import_batch(c.id, 2, &rows(&[(2, 1), (3, 2), (4, 3)]), t0())
        .await
        .unwrap();
    assert_eq!((again.counts.inserted, again.counts.updated), (0, 3));
    assert!(again.duplicates.is_empty());
    assert_eq!(s.count_records(c.id).await.unwrap(), 3);
}

backend_tests!(a_file_repeating_an_external_id_keeps_its_first_line);
