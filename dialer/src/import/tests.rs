//! CSV import against a real store (SQLite).

use std::sync::{Arc, Mutex};

use super::*;
use crate::campaign::CampaignSpec;
use crate::store::testing::TestDb;

async fn campaign(store: &Store) -> Campaign {
    let spec: CampaignSpec =
        serde_json::from_str(r#"{"name":"Import","queue":"8100","default_country_code":"44"}"#)
            .unwrap();
    store.create_campaign(&spec, Utc::now()).await.unwrap()
}

async fn import(
    store: &Store,
    c: &Campaign,
    csv: &str,
    batch_rows: usize,
) -> (ImportReport, Vec<ImportProgress>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let options = ImportOptions {
        batch_rows,
        max_reported_errors: 2,
    };
    let report = import_csv(
        store,
        c,
        std::io::Cursor::new(csv.as_bytes().to_vec()),
        options,
        move |p| log.lock().unwrap().push(p.clone()),
    )
    .await
    .unwrap();
    let progress = seen.lock().unwrap().clone();
    (report, progress)
}

const FILE: &str = "external_id,name,phone_home,phone_mobile,plan\n\
A1,Ada,020 7946 0001,,gold\n\
A2,Bob,,not-a-number,silver\n\
A3,\"Cy\nwith a newline\",020 7946 0003,07700 900003,\n\
,Nobody,020 7946 0004,,\n\
A5,Eve,020 7946 0005\n\
A6,Fay,020 7946 0006,,bronze\n";

#[tokio::test]
async fn bad_rows_are_reported_by_line_while_good_rows_load() {
    let db = TestDb::sqlite().await;
    let c = campaign(&db.store).await;
    let (report, progress) = import(&db.store, &c, FILE, 2).await;
    let p = &report.progress;
    assert_eq!((p.rows, p.inserted, p.updated, p.rejected), (6, 3, 0, 3));
    assert!(p.done);
    assert_eq!(p.bytes, FILE.len() as u64);
    // Lines count the newline inside A3's quoted name: the empty external id is line 6.
    assert_eq!(report.errors.len(), 2, "capped at max_reported_errors");
    assert!(report.errors_truncated);
    assert_eq!(report.errors[0].line, 3);
    assert!(
        report.errors[0].reason.starts_with("phone_mobile:"),
        "{:?}",
        report.errors[0]
    );
    assert_eq!(
        report.errors[1],
        RowError {
            line: 6,
            reason: "external_id is empty".into()
        }
    );
    assert!(
        progress.len() >= 3,
        "progress after each batch: {progress:?}"
    );
    assert!(progress.windows(2).all(|w| w[0].rows <= w[1].rows));
    let cy = db
        .store
        .record_by_external_id(c.id, "A3")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cy.name, "Cy\nwith a newline");
    assert_eq!(cy.phones.len(), 2);
    assert_eq!(db.store.count_records(c.id).await.unwrap(), 3);

    // Re-import: nothing new, nothing doubled.
    let (again, _) = import(&db.store, &c, FILE, 1000).await;
    assert_eq!((again.progress.inserted, again.progress.updated), (0, 3));
    assert_eq!(db.store.count_records(c.id).await.unwrap(), 3);
    db.cleanup().await;
}

#[tokio::test]
async fn header_errors_stop_the_import() {
    let db = TestDb::sqlite().await;
    let c = campaign(&db.store).await;
    let run = |csv: Vec<u8>| {
        let store = db.store.clone();
        let c = c.clone();
        async move {
            import_csv(
                &store,
                &c,
                std::io::Cursor::new(csv),
                ImportOptions::default(),
                |_| {},
            )
            .await
        }
    };
    assert!(matches!(run(Vec::new()).await, Err(ImportError::Empty)));
    assert!(matches!(
        run(b"\n\n".to_vec()).await,
        Err(ImportError::Empty)
    ));
    assert!(matches!(
        run(b"name,phone\nA,1\n".to_vec()).await,
        Err(ImportError::Header(_))
    ));
    assert!(matches!(
        run(b"external_id,\"phone\n".to_vec()).await,
        Err(ImportError::Header(_))
    ));
    let mut long = b"external_id,phone".to_vec();
    long.extend(std::iter::repeat_n(b'x', MAX_ROW_BYTES + 10));
    assert!(matches!(
        run(long).await,
        Err(ImportError::RowTooLong { line: 1 })
    ));
    // Invalid UTF-8 is a bad row, not a failed import.
    let report = run(b"external_id,phone\nA1,\xff\xfe\nA2,+442079460002\n".to_vec())
        .await
        .unwrap();
    assert_eq!(report.progress.inserted, 1);
    assert_eq!(
        report.errors,
        vec![RowError {
            line: 2,
            reason: "not valid UTF-8".into()
        }]
    );
    db.cleanup().await;
}

fn lines(report: &ImportReport) -> Vec<u64> {
    report.errors.iter().map(|e| e.line).collect()
}

/// The issue's file: ten data rows, an unterminated quote on line 6.
fn ten_rows_with_a_stray_quote() -> String {
    let mut csv = String::from("external_id,name,phone\n");
    for i in 2..=11 {
        if i == 6 {
            csv.push_str("R6,\"Fay,020 7946 0006\n");
        } else {
            csv.push_str(&format!("R{i},Name {i},020 7946 {i:04}\n"));
        }
    }
    csv
}

#[tokio::test]
async fn an_unterminated_quote_costs_one_row_and_rows_are_counted_as_the_file_has_them() {
    let db = TestDb::sqlite().await;
    let c = campaign(&db.store).await;
    let csv = ten_rows_with_a_stray_quote();
    let (report, _) = import(&db.store, &c, &csv, 3).await;
    let p = &report.progress;
    assert_eq!((p.rows, p.inserted, p.rejected), (10, 9, 1), "{report:?}");
    assert_eq!(lines(&report), vec![6]);
    assert!(report.errors[0]
        .reason
        .starts_with("unterminated quoted field"));
    assert_eq!(db.store.count_records(c.id).await.unwrap(), 9);
    let r7 = db.store.record_by_external_id(c.id, "R7").await.unwrap();
    assert_eq!(r7.map(|r| r.name), Some("Name 7".to_string()));
    db.cleanup().await;
}

#[tokio::test]
async fn an_over_long_row_is_reported_and_the_good_rows_are_kept() {
    let db = TestDb::sqlite().await;
    let c = campaign(&db.store).await;
    let mut csv = b"external_id,name,phone\nL1,Ann,020 7946 0001\nL2,\"".to_vec();
    csv.extend(std::iter::repeat_n(b'x', MAX_ROW_BYTES + 200_000));
    csv.extend_from_slice(b"\",020 7946 0002\nL3,Cy,020 7946 0003\n");
    let report = import_csv(
        &db.store,
        &c,
        std::io::Cursor::new(csv),
        ImportOptions::default(),
        |_| {},
    )
    .await
    .unwrap();
    let p = &report.progress;
    assert_eq!((p.rows, p.inserted, p.rejected), (3, 2, 1), "{report:?}");
    assert_eq!(lines(&report), vec![3]);
    assert!(report.errors[0].reason.contains("longer than"));
    assert_eq!(db.store.count_records(c.id).await.unwrap(), 2);
    db.cleanup().await;
}

#[tokio::test]
async fn duplicate_external_ids_in_one_file_are_reported_by_line_and_the_first_is_kept() {
    let db = TestDb::sqlite().await;
    let c = campaign(&db.store).await;
    // Batches of two rows: lines 2-3, 4-5, 6. D1 is repeated in its own batch (line 3),
    // D2 in a later batch (line 6).
    let csv = "external_id,name,phone\n\
               D1,First,020 7946 0001\n\
               D1,Second,020 7946 0002\n\
               D2,Dee,020 7946 0003\n\
               D3,Eve,020 7946 0004\n\
               D2,Again,020 7946 0005\n";
    let (report, _) = import(&db.store, &c, csv, 2).await;
    let p = &report.progress;
    assert_eq!(
        (p.rows, p.inserted, p.updated, p.rejected),
        (5, 3, 0, 2),
        "{report:?}"
    );
    assert_eq!(lines(&report), vec![3, 6]);
    assert_eq!(
        report.errors[0].reason,
        "duplicate external_id \"D1\": line 2 has it already; this row was not imported"
    );
    assert!(report.errors[1].reason.contains("\"D2\": line 4"));
    let d1 = db.store.record_by_external_id(c.id, "D1").await.unwrap();
    assert_eq!(d1.map(|r| r.name), Some("First".to_string()));
    let d2 = db.store.record_by_external_id(c.id, "D2").await.unwrap();
    assert_eq!(d2.map(|r| r.name), Some("Dee".to_string()));

    // Importing the same file into the campaign again updates (and reports the same
    // duplicates, which are this file's, not the earlier import's).
    let (again, _) = import(&db.store, &c, csv, 1000).await;
    let p = &again.progress;
    assert_eq!((p.inserted, p.updated, p.rejected), (0, 3, 2), "{again:?}");
    assert_eq!(lines(&again), vec![3, 6]);
    assert_eq!(db.store.count_records(c.id).await.unwrap(), 3);
    db.cleanup().await;
}
