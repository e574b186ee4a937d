//! REST tests: the router driven with `oneshot`, over a SQLite store.

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use chrono::Utc;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::*;
use crate::preview::{Input, PreviewConfig};
use crate::record::AttemptId;
use crate::service::DialerEvent;
use crate::store::testing::TestDb;

mod agent_campaigns;
mod import;

pub(super) struct Api {
    pub db: TestDb,
    pub dialer: Dialer,
    pub app: Router,
}

impl Api {
    pub async fn new() -> Api {
        let db = TestDb::sqlite().await;
        let dialer = Dialer::new(db.store.clone(), PreviewConfig::default())
            .await
            .unwrap();
        let app = router(DialerHttp::new(dialer.clone()));
        Api { db, dialer, app }
    }

    pub async fn raw(
        &self,
        method: &str,
        uri: &str,
        content_type: &str,
        body: &str,
    ) -> (StatusCode, String) {
        let mut req = Request::builder().method(method).uri(uri);
        if !content_type.is_empty() {
            req = req.header("content-type", content_type);
        }
        let resp = self
            .app
            .clone()
            .oneshot(req.body(Body::from(body.to_string())).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    pub async fn json(&self, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let (status, text) = match body {
            Some(b) => {
                self.raw(method, uri, "application/json", &b.to_string())
                    .await
            }
            None => self.raw(method, uri, "", "").await,
        };
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, value)
    }

    /// A new (stopped) campaign of `spec`; its id.
    pub async fn create(&self, spec: Value) -> i64 {
        let (status, c) = self.json("POST", "/api/campaigns", Some(spec)).await;
        assert_eq!(status, StatusCode::CREATED, "{c}");
        c["id"].as_i64().unwrap()
    }

    /// A campaign that is running, with `csv` imported.
    pub async fn running(&self, extra: Value, csv: &str) -> i64 {
        let mut spec = json!({"name": "Renewals", "queue": "8100", "default_country_code": "44",
            "window": {"start": "00:00", "end": "24:00"}});
        if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
            spec.extend(extra.clone());
        }
        let (status, c) = self.json("POST", "/api/campaigns", Some(spec)).await;
        assert_eq!(status, StatusCode::CREATED, "{c}");
        let id = c["id"].as_i64().unwrap();
        let (status, _) = self
            .raw(
                "POST",
                &format!("/api/campaigns/{id}/import"),
                "text/csv",
                csv,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        for cmd in ["load", "start"] {
            let (status, c) = self
                .json("POST", &format!("/api/campaigns/{id}/{cmd}"), None)
                .await;
            assert_eq!(status, StatusCode::OK, "{cmd}: {c}");
        }
        id
    }
}

pub(super) fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<none>")
}

pub(super) const CSV: &str = "external_id,name,phone_home,phone_mobile,balance\n\
E1,Ada,020 7946 0001,07700 900001,12.50\n\
E2,Bob,bad,,3\n\
E3,Cy,020 7946 0003,,7\n";

#[tokio::test]
async fn openapi_lists_every_route_and_each_route_answers_its_method() {
    let api = Api::new().await;
    let (status, doc) = api.json("GET", "/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    // The API's routes and the document's own.
    let mut served = route_list();
    served.push((Method::GET, OPENAPI_PATH));
    let mut documented = 0;
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            documented += 1;
            assert!(
                served
                    .iter()
                    .any(|(m, p)| p == path && m.as_str().eq_ignore_ascii_case(method)),
                "{method} {path} is documented but not routed"
            );
        }
    }
    let routes = routes();
    assert_eq!(
        documented,
        served.len(),
        "a route is missing from the document"
    );
    for r in &routes {
        let uri = r
            .path
            .replace("{campaign}", "999999")
            .replace("{record}", "1")
            .replace("{id}", "a")
            .replace("{number}", "+442079460000");
        let (status, _) = api
            .raw(r.method.as_str(), &uri, "application/json", "{}")
            .await;
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{} {}",
            r.method,
            r.path
        );
        assert!(
            status.as_u16() < 500,
            "{} {} gave {status}",
            r.method,
            r.path
        );
    }
    api.db.cleanup().await;
}

/// Embedded (as the switch does), the router leaves the document's path to its host.
#[tokio::test]
async fn without_openapi_the_document_is_left_to_the_host() {
    let db = TestDb::sqlite().await;
    let dialer = Dialer::new(db.store.clone(), PreviewConfig::default())
        .await
        .unwrap();
    let app = router(DialerHttp::new(dialer).without_openapi())
        .route(OPENAPI_PATH, axum::routing::get(|| async { "the host's" }));
    let req = Request::builder()
        .uri(OPENAPI_PATH)
        .body(Body::empty())
        .unwrap();
    let resp = app.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    assert_eq!(&bytes[..], b"the host's");
    db.cleanup().await;
}

#[tokio::test]
async fn bad_input_gets_json_errors() {
    let api = Api::new().await;
    let (status, v) = api
        .raw("POST", "/api/campaigns", "application/json", "{not json")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_str(&v).unwrap();
    assert_eq!(error_code(&v), "bad_json");
    let (status, v) = api.raw("POST", "/api/campaigns", "text/plain", "{}").await;
    assert_eq!(
        (status, error_code(&serde_json::from_str(&v).unwrap())),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let (status, v) = api
        .json(
            "POST",
            "/api/campaigns",
            Some(json!({"name": "x", "queue": "1", "nmae": 1})),
        )
        .await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_campaign")
    );
    let (status, v) = api
        .json(
            "POST",
            "/api/campaigns",
            Some(json!({"name": "", "queue": "1"})),
        )
        .await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_campaign")
    );
    assert!(v["error"]["message"].as_str().unwrap().starts_with("name"));
    let (status, v) = api.json("GET", "/api/campaigns/123456", None).await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::NOT_FOUND, "campaign_not_found")
    );
    let (status, v) = api.json("GET", "/api/campaigns/abc", None).await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::BAD_REQUEST, "bad_path")
    );
    let (status, v) = api
        .raw("POST", "/api/campaigns/123456/import", "text/csv", CSV)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    let (status, v) = api.json("POST", "/api/campaigns/123456/start", None).await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::NOT_FOUND, "campaign_not_found")
    );
    let (status, v) = api.json("GET", "/api/campaigns/123456/stats", None).await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::NOT_FOUND, "campaign_not_found")
    );
    let (status, v) = api
        .json("POST", "/api/agents/a/campaigns/123456/records/next", None)
        .await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::NOT_FOUND, "campaign_not_found")
    );
    // A stopped campaign cannot be started or paused.
    let (_, c) = api
        .json(
            "POST",
            "/api/campaigns",
            Some(json!({"name": "x", "queue": "1"})),
        )
        .await;
    let id = c["id"].as_i64().unwrap();
    let (status, v) = api
        .json("POST", &format!("/api/campaigns/{id}/pause"), None)
        .await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::CONFLICT, "bad_transition")
    );
    let (status, v) = api
        .raw(
            "POST",
            &format!("/api/campaigns/{id}/import"),
            "text/csv",
            "name\nx\n",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&serde_json::from_str(&v).unwrap()), "bad_csv");
    api.db.cleanup().await;
}

#[tokio::test]
async fn csv_import_reports_bad_rows_and_reimport_is_idempotent() {
    let api = Api::new().await;
    let (_, c) = api
        .json(
            "POST",
            "/api/campaigns",
            Some(json!({"name": "x", "queue": "1", "default_country_code": "44"})),
        )
        .await;
    let id = c["id"].as_i64().unwrap();
    let uri = format!("/api/campaigns/{id}/import");
    let (status, text) = api.raw("POST", &uri, "text/csv", CSV).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["inserted"], 2);
    assert_eq!(report["rejected"], 1);
    assert_eq!(report["errors"][0]["line"], 3);
    assert!(report["errors"][0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("phone_home:"));
    let (_, again) = api.raw("POST", &uri, "text/csv", CSV).await;
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(
        (again["inserted"].as_i64(), again["updated"].as_i64()),
        (Some(0), Some(2))
    );
    let (_, stats) = api
        .json("GET", &format!("/api/campaigns/{id}/stats"), None)
        .await;
    assert_eq!(stats["total_records"], 2);
    let (_, imports) = api
        .json("GET", &format!("/api/campaigns/{id}/imports"), None)
        .await;
    assert_eq!(imports.as_array().unwrap().len(), 2);
    assert_eq!(imports[1]["done"], true);
    api.db.cleanup().await;
}

#[tokio::test]
async fn an_agent_previews_calls_and_wraps_up_over_rest() {
    let api = Api::new().await;
    let mut events = api.dialer.subscribe();
    let extra = json!({"dispositions": [{"code": "sale"}], "case_fields": [{"key": "balance", "label": "Balance"}]});
    let id = api.running(extra, CSV).await;
    let base = format!("/api/agents/alice/campaigns/{id}/records");
    let (status, s) = api.json("POST", &format!("{base}/next"), None).await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["state"], "previewing");
    assert_eq!(s["preview"]["case_info"][0]["value"], "12.50");
    let rid = s["preview"]["record"].as_i64().unwrap();
    let (status, v) = api.json("POST", &format!("{base}/next"), None).await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::CONFLICT, "wrong_state")
    );
    let (status, v) = api
        .json(
            "POST",
            &format!("{base}/{rid}/call"),
            Some(json!({"number": "12"})),
        )
        .await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::BAD_REQUEST, "bad_call")
    );
    let (status, s) = api
        .json(
            "POST",
            &format!("{base}/{rid}/call"),
            Some(json!({"phone": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["state"], "dialling");
    assert_eq!(s["number"], "+447700900001");
    let attempt = AttemptId(s["attempt"].as_i64().unwrap());
    let mut originated = false;
    while let Ok(e) = events.try_recv() {
        originated |= matches!(e, DialerEvent::Originate { attempt: a, .. } if a == attempt);
    }
    assert!(originated, "the switch was asked to call");
    // The switch reports the call.
    api.dialer
        .handle(
            Utc::now(),
            Input::CallEnded {
                agent: "alice".into(),
                attempt,
                sip_status: 200,
            },
        )
        .await
        .unwrap();
    let (status, v) = api.json("POST", &format!("{base}/next"), None).await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::CONFLICT, "outcome_required")
    );
    let (status, v) = api
        .json(
            "POST",
            &format!("{base}/{rid}/outcome"),
            Some(json!({"call_result": "success"})),
        )
        .await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_outcome")
    );
    let outcome = json!({"call_result": "success", "dispositions": ["sale"], "notes": "renewed"});
    let (status, s) = api
        .json("POST", &format!("{base}/{rid}/outcome"), Some(outcome))
        .await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["state"], "idle");

    // Next record: declined as do-not-call; its number goes on the global list.
    let (_, s) = api.json("POST", &format!("{base}/next"), None).await;
    let rid2 = s["preview"]["record"].as_i64().unwrap();
    let (status, s) = api
        .json(
            "POST",
            &format!("{base}/{rid2}/decline"),
            Some(json!({"decline": "do_not_call"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{s}");
    let (_, check) = api.json("GET", "/api/dnc/+442079460003", None).await;
    assert_eq!(check["dnc"], true);
    let (status, v) = api.json("POST", &format!("{base}/next"), None).await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::NOT_FOUND, "no_record")
    );

    let (_, stats) = api
        .json("GET", &format!("/api/campaigns/{id}/stats"), None)
        .await;
    assert_eq!(stats["records"]["done"], 1);
    assert_eq!(stats["records"]["do_not_call"], 1);
    assert_eq!(stats["agents"]["alice"]["results"]["success"], 1);
    let (_, c) = api.json("GET", &format!("/api/campaigns/{id}"), None).await;
    assert_eq!(c["status"], "completed");
    let (status, csv) = api
        .raw("GET", &format!("/api/campaigns/{id}/export"), "", "")
        .await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("record_id,external_id,name,status"));
    assert!(
        lines[1].contains(",E1,Ada,done,1,success,") && lines[1].contains("sale"),
        "{}",
        lines[1]
    );
    let (status, r) = api
        .json("GET", &format!("/api/campaigns/{id}/records/{rid}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(r["attempts"][0]["notes"], "renewed");
    api.db.cleanup().await;
}

#[tokio::test]
async fn dnc_add_check_remove() {
    let api = Api::new().await;
    let (status, v) = api
        .json("POST", "/api/dnc", Some(json!({"number": "020 7946 0000"})))
        .await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_number")
    );
    let (status, v) = api
        .json(
            "POST",
            "/api/dnc",
            Some(json!({"number": "020 7946 0000", "country_code": "44"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["number"], "+442079460000");
    let (status, _) = api
        .json(
            "POST",
            "/api/dnc",
            Some(json!({"number": "+44 20 7946 0000"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "already listed");
    let (_, v) = api
        .json("GET", "/api/dnc/0044%2020%207946%200000", None)
        .await;
    assert_eq!(v["dnc"], true);
    let (status, _) = api.json("DELETE", "/api/dnc/+442079460000", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, v) = api.json("DELETE", "/api/dnc/+442079460000", None).await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::NOT_FOUND, "not_listed")
    );
    let (_, v) = api.json("GET", "/api/dnc/+442079460000", None).await;
    assert_eq!(v["dnc"], false);
    let (status, v) = api
        .json(
            "POST",
            "/api/dnc",
            Some(json!({"number": "+442079460000", "campaign": 77})),
        )
        .await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::NOT_FOUND, "campaign_not_found")
    );
    api.db.cleanup().await;
}
