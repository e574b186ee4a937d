//! `POST /api/campaigns/{id}/import` with the files of issue 15: an unterminated quote,
//! a row over 1 MiB, an external id given twice; every bad line is reported by number,
//! every good row is kept, and rows are counted as the file has them.

use super::*;
use crate::import::MAX_ROW_BYTES;

async fn campaign(api: &Api) -> i64 {
    let (_, c) = api
        .json(
            "POST",
            "/api/campaigns",
            Some(json!({"name": "x", "queue": "1", "default_country_code": "44"})),
        )
        .await;
    c["id"].as_i64().unwrap()
}

async fn import(api: &Api, id: i64, csv: &str) -> Value {
    let uri = format!("/api/campaigns/{id}/import");
    let (status, text) = api.raw("POST", &uri, "text/csv", csv).await;
    assert_eq!(status, StatusCode::OK, "{text:.300}");
    serde_json::from_str(&text).unwrap()
}

fn error_lines(report: &Value) -> Vec<i64> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_i64().unwrap())
        .collect()
}

fn reason(report: &Value, line: i64) -> String {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["line"] == line)
        .and_then(|e| e["reason"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn every_bad_line_is_reported_and_every_good_row_kept() {
    let api = Api::new().await;
    let id = campaign(&api).await;
    // Lines 2-13 are twelve data rows: line 4 repeats line 2's id, line 6 opens a quote
    // it never closes, line 9 is over 1 MiB, line 12 has a bad number, line 13 repeats
    // line 7's id. The other seven rows are good.
    let mut csv = String::from("external_id,name,phone\n");
    csv.push_str("A1,Ann,020 7946 0001\n");
    csv.push_str("A2,Bob,020 7946 0002\n");
    csv.push_str("A1,Ann again,020 7946 0003\n");
    csv.push_str("A4,Cy,020 7946 0004\n");
    csv.push_str("A5,\"Dee,020 7946 0005\n");
    csv.push_str("A6,Eve,020 7946 0006\n");
    csv.push_str("A7,Fay,020 7946 0007\n");
    csv.push_str(&format!("A8,{},020 7946 0008\n", "x".repeat(MAX_ROW_BYTES)));
    csv.push_str("A9,\"Gus\nGrant\",020 7946 0009\n"); // lines 10-11: one row
    csv.push_str("A10,Hal,12\n");
    csv.push_str("A6,Ivy,020 7946 0011\n");
    let report = import(&api, id, &csv).await;
    assert_eq!(report["rows"], 11, "{report:#}");
    assert_eq!(report["inserted"], 6, "{report:#}");
    assert_eq!(report["rejected"], 5, "{report:#}");
    assert_eq!(report["done"], true);
    assert_eq!(error_lines(&report), vec![4, 6, 9, 12, 13], "{report:#}");
    assert!(reason(&report, 4).contains("duplicate external_id \"A1\": line 2"));
    assert!(reason(&report, 6).starts_with("unterminated quoted field"));
    assert!(reason(&report, 9).contains("longer than 1048576 bytes"));
    assert!(reason(&report, 12).starts_with("phone:"));
    assert!(reason(&report, 13).contains("\"A6\": line 7"));
    let (_, stats) = api
        .json("GET", &format!("/api/campaigns/{id}/stats"), None)
        .await;
    assert_eq!(stats["total_records"], 6, "{stats:#}");
    let a1 = api
        .db
        .store
        .record_by_external_id(crate::campaign::CampaignId(id), "A1");
    assert_eq!(a1.await.unwrap().map(|r| r.name), Some("Ann".to_string()));

    // The same file again: the good rows update, the same lines are reported.
    let again = import(&api, id, &csv).await;
    assert_eq!(
        (again["inserted"].as_i64(), again["updated"].as_i64()),
        (Some(0), Some(6))
    );
    assert_eq!(error_lines(&again), vec![4, 6, 9, 12, 13]);
    api.db.cleanup().await;
}

#[tokio::test]
async fn the_issue_file_counts_ten_rows() {
    let api = Api::new().await;
    let id = campaign(&api).await;
    let mut csv = String::from("external_id,name,phone\n");
    for i in 2..=11 {
        let name = if i == 6 {
            "\"Fay".to_string()
        } else {
            format!("N{i}")
        };
        csv.push_str(&format!("R{i},{name},020 7946 {i:04}\n"));
    }
    let report = import(&api, id, &csv).await;
    assert_eq!(
        (report["rows"].as_i64(), report["inserted"].as_i64()),
        (Some(10), Some(9)),
        "{report:#}"
    );
    assert_eq!(error_lines(&report), vec![6]);
    api.db.cleanup().await;
}
