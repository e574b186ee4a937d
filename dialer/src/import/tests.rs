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
async fn header_and_size_errors_stop_the_import() {
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
        run(b"name,phone\nA,1\n".to_vec()).await,
        Err(ImportError::Header(_))
    ));
    let mut long = b"external_id,phone\nA1,\"".to_vec();
    long.extend(std::iter::repeat_n(b'x', MAX_ROW_BYTES + 200_000));
    assert!(matches!(
        run(long).await,
        Err(ImportError::RowTooLong { line: 2 })
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
