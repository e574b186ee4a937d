//! Campaign settings and life cycle.

use super::*;

fn minimal() -> CampaignSpec {
    serde_json::from_str(r#"{"name":"Renewals","queue":"8100"}"#).unwrap()
}

#[test]
fn defaults_are_valid() {
    let spec = minimal();
    spec.validate().unwrap();
    assert_eq!(spec.preview, PreviewMode::Manual {});
    assert_eq!(spec.max_attempts, 3);
    assert_eq!(spec.time_zone, Tz::UTC);
    assert!(spec.call_results.iter().any(|r| r.code == "callback"));
}

#[test]
fn full_spec_round_trips() {
    let json = r#"{"name":"N","queue":"8100","preview":{"mode":"countdown","seconds":15},
        "call_results":[{"code":"busy","label":"Busy","action":"retry","after_minutes":10}],
        "time_zone":"Europe/Paris","default_country_code":"33","dnc_scope":"campaign"}"#;
    let spec: CampaignSpec = serde_json::from_str(json).unwrap();
    spec.validate().unwrap();
    assert_eq!(spec.preview, PreviewMode::Countdown { seconds: 15 });
    assert_eq!(
        spec.call_results[0].action,
        ResultAction::Retry { after_minutes: 10 }
    );
    let back: CampaignSpec = serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
    assert_eq!(back, spec);
}

#[test]
fn rejects_bad_specs() {
    let check = |f: &dyn Fn(&mut CampaignSpec), field: &str| {
        let mut spec = minimal();
        f(&mut spec);
        match spec.validate() {
            Err(CampaignError::Invalid { field: got, .. }) => assert_eq!(got, field),
            other => panic!("expected {field} error, got {other:?}"),
        }
    };
    check(&|s| s.name = "  ".into(), "name");
    check(&|s| s.queue = String::new(), "queue");
    check(
        &|s| s.preview = PreviewMode::Countdown { seconds: 0 },
        "preview",
    );
    check(&|s| s.call_results.clear(), "call_results");
    check(
        &|s| s.call_results[1].code = s.call_results[0].code.clone(),
        "call_results",
    );
    check(
        &|s| s.call_results[0].code = "Bad Code".into(),
        "call_results",
    );
    check(
        &|s| s.call_results[2].action = ResultAction::Retry { after_minutes: 0 },
        "call_results",
    );
    check(
        &|s| {
            s.dispositions = vec![Disposition {
                code: "UPPER".into(),
                label: String::new(),
            }]
        },
        "dispositions",
    );
    check(&|s| s.max_attempts = 0, "max_attempts");
    check(&|s| s.call_later_minutes = 0, "call_later_minutes");
    check(&|s| s.window.end = s.window.start, "window");
    check(
        &|s| {
            s.case_fields = vec![
                FieldSpec {
                    key: "a".into(),
                    label: String::new(),
                },
                FieldSpec {
                    key: "a".into(),
                    label: String::new(),
                },
            ]
        },
        "case_fields",
    );
    assert!(serde_json::from_str::<CampaignSpec>(
        r#"{"name":"N","queue":"1","time_zone":"Mars/Olympus"}"#
    )
    .is_err());
}

#[test]
fn life_cycle() {
    use CampaignCommand as C;
    use CampaignStatus as S;
    assert_eq!(S::Stopped.apply(C::Load), Ok(S::Loaded));
    assert_eq!(S::Loaded.apply(C::Start), Ok(S::Running));
    assert_eq!(S::Running.apply(C::Pause), Ok(S::Paused));
    assert_eq!(S::Paused.apply(C::Start), Ok(S::Running));
    assert_eq!(S::Running.apply(C::Stop), Ok(S::Stopped));
    assert_eq!(S::Completed.apply(C::Load), Ok(S::Loaded));
    assert_eq!(S::Running.apply(C::Start), Ok(S::Running), "idempotent");
    assert!(S::Stopped.apply(C::Start).is_err());
    assert!(S::Loaded.apply(C::Pause).is_err());
    assert!(S::Completed.apply(C::Start).is_err());
    let err = S::Running.apply(C::Load).unwrap_err();
    assert_eq!(err.to_string(), "cannot load a campaign that is running");
    for s in [S::Stopped, S::Loaded, S::Running, S::Paused, S::Completed] {
        assert_eq!(CampaignStatus::parse(s.as_str()), Some(s));
    }
}

#[test]
fn spec_fields_list_every_key() {
    let mut spec = minimal();
    spec.default_country_code = Some(CountryCode::parse("44").unwrap());
    let value = serde_json::to_value(&spec).unwrap();
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    let mut expected = SPEC_FIELDS.to_vec();
    expected.sort();
    assert_eq!(keys, expected);
}

#[test]
fn patch_keeps_absent_fields() {
    let patch: CampaignPatch = serde_json::from_str(r#"{"max_attempts":5}"#).unwrap();
    let spec = patch.apply(minimal());
    assert_eq!(spec.max_attempts, 5);
    assert_eq!(spec.name, "Renewals");
    assert!(serde_json::from_str::<CampaignPatch>(r#"{"nmae":"x"}"#).is_err());
}

#[test]
fn preview_modes_refuse_unknown_fields() {
    for (text, mode) in [
        (r#"{"mode":"manual"}"#, PreviewMode::Manual {}),
        (r#"{"mode":"dial_on_accept"}"#, PreviewMode::DialOnAccept {}),
        (
            r#"{"mode":"countdown","seconds":5}"#,
            PreviewMode::Countdown { seconds: 5 },
        ),
    ] {
        let parsed: PreviewMode = serde_json::from_str(text).unwrap();
        assert_eq!(parsed, mode);
        assert_eq!(serde_json::to_string(&parsed).unwrap(), text);
    }
    for bad in [
        r#"{"mode":"manual","x":1}"#,
        r#"{"mode":"dial_on_accept","seconds":3}"#,
        r#"{"mode":"countdown","seconds":5,"x":1}"#,
    ] {
        assert!(serde_json::from_str::<PreviewMode>(bad).is_err(), "{bad}");
    }
}
