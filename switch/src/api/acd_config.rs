//! Creating, changing and deleting queues and agents over REST.
//!
//! `PUT /api/queues/{dn}` and `PUT /api/agents/{id}` take the same JSON as a `[[queues]]` /
//! `[[agents]]` entry of the config file; the key may be left out of the body (the path
//! gives it) but must match the path when present. A change is applied to the engine, then
//! saved (`acd_queues` / `acd_agents`), and announced on the event stream; at start-up saved
//! changes are laid over the config file's entries, and a deletion is saved as a tombstone
//! so a config-file entry deleted over REST stays deleted.
//!
//! Answers: 201 created / 200 changed with the new state, 204 deleted; 400 for a body that
//! is not JSON, 422 naming the field for a value that does not fit (ids, DNs and names by
//! `acd`'s rules; an agent's queues must exist and its extension must be a configured
//! user), 404 for an unknown queue or agent, 409 when the engine refuses (queue not empty,
//! agent logged in).

use super::agents::{agent_json, queue_json, refusal};
use super::{ApiError, AppState};
use acd::{AgentConfig, AgentId, ConfigError, Dn, QueueConfig};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use dialer::http::{JsonBody, PathArgs};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

pub(super) async fn put_queue(
    State(s): State<AppState>,
    PathArgs(dn): PathArgs<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let dn = Dn::new(dn);
    let fields = keyed(body, "dn", dn.as_str())?;
    let config: QueueConfig = typed(fields, &QueueConfig::new(dn.clone()))?;
    config.validate().map_err(invalid)?;
    let admin = s.acd_admin.lock().await;
    let key = dn.clone();
    let existed = s
        .distributor
        .read(move |e, _| e.queue_config(&key).is_some())
        .await
        .unwrap_or(false);
    s.distributor.upsert_queue(config.clone()).await?;
    s.store
        .save_queue_config(&config)
        .await
        .map_err(|e| not_saved("queue", dn.as_str(), e))?;
    s.distributor
        .publish(json!({"type": "queue_changed", "queue": dn, "config": config}));
    drop(admin);
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(queue_json(&s, dn).await?)))
}

pub(super) async fn delete_queue(
    State(s): State<AppState>,
    PathArgs(dn): PathArgs<String>,
) -> Result<StatusCode, ApiError> {
    let dn = Dn::new(dn);
    let _admin = s.acd_admin.lock().await;
    s.distributor
        .remove_queue(dn.clone())
        .await
        .map_err(|e| refusal(e, "queue_not_empty"))?;
    s.store
        .delete_queue_config(dn.as_str())
        .await
        .map_err(|e| not_saved("queue", dn.as_str(), e))?;
    s.distributor
        .publish(json!({"type": "queue_removed", "queue": dn}));
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn put_agent(
    State(s): State<AppState>,
    PathArgs(id): PathArgs<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = AgentId::new(id);
    let fields = keyed(body, "id", id.as_str())?;
    let config: AgentConfig = typed(fields, &AgentConfig::new(id.clone()))?;
    config.validate().map_err(invalid)?;
    if !config.extension.is_empty() && s.config.user(&config.extension).is_none() {
        return Err(ApiError::invalid(
            "extension",
            format!("no user {:?}", config.extension),
        ));
    }
    let admin = s.acd_admin.lock().await;
    let key = id.clone();
    let queues = config.queues.clone();
    let (existed, missing) = s
        .distributor
        .read(move |e, _| {
            let missing = queues.into_iter().find(|dn| e.queue_config(dn).is_none());
            (e.agent_config(&key).is_some(), missing)
        })
        .await
        .unwrap_or((false, None));
    if let Some(dn) = missing {
        return Err(ApiError::invalid(
            "queues",
            format!("no queue with DN {:?}", dn.as_str()),
        ));
    }
    s.distributor.upsert_agent(config.clone()).await?;
    s.store
        .save_agent_config(&config)
        .await
        .map_err(|e| not_saved("agent", id.as_str(), e))?;
    s.distributor
        .publish(json!({"type": "agent_changed", "agent": id, "config": config}));
    drop(admin);
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(agent_json(&s, id).await?)))
}

pub(super) async fn delete_agent(
    State(s): State<AppState>,
    PathArgs(id): PathArgs<String>,
) -> Result<StatusCode, ApiError> {
    let id = AgentId::new(id);
    let _admin = s.acd_admin.lock().await;
    s.distributor
        .remove_agent(id.clone())
        .await
        .map_err(|e| refusal(e, "agent_logged_in"))?;
    s.store
        .delete_agent_config(id.as_str())
        .await
        .map_err(|e| not_saved("agent", id.as_str(), e))?;
    s.distributor
        .publish(json!({"type": "agent_removed", "agent": id}));
    Ok(StatusCode::NO_CONTENT)
}

fn invalid(e: ConfigError) -> ApiError {
    ApiError::invalid(e.key, e.to_string())
}

/// The engine took the change but the store did not: it is live now and lost at restart.
fn not_saved(what: &str, key: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::store(format!(
        "{what} {key} is changed but could not be saved (it will not survive a restart): {e}"
    ))
}

/// The body's fields with `key` set to the path's value: filled in when absent or null,
/// refused when it names something else.
fn keyed(body: Value, key: &str, value: &str) -> Result<Map<String, Value>, ApiError> {
    let Value::Object(mut fields) = body else {
        return Err(ApiError::invalid("", "the body must be a JSON object"));
    };
    match fields.get(key) {
        None | Some(Value::Null) => {
            fields.insert(key.to_string(), json!(value));
        }
        Some(Value::String(v)) if v == value => {}
        Some(other) => {
            return Err(ApiError::invalid(
                key,
                format!("{key} {other} does not match the path ({value:?})"),
            ))
        }
    }
    Ok(fields)
}

/// The body as a `T`. When it does not fit, finds the field at fault by trying each of the
/// body's fields alone on top of `template` (a `T` with every default), so the 422 names
/// it even though serde's message does not.
fn typed<T: DeserializeOwned + Serialize>(
    fields: Map<String, Value>,
    template: &T,
) -> Result<T, ApiError> {
    let error = match serde_json::from_value::<T>(Value::Object(fields.clone())) {
        Ok(config) => return Ok(config),
        Err(e) => e,
    };
    let Ok(Value::Object(defaults)) = serde_json::to_value(template) else {
        return Err(ApiError::invalid("", error.to_string()));
    };
    for (name, value) in &fields {
        if !defaults.contains_key(name) {
            let known: Vec<&str> = defaults.keys().map(String::as_str).collect();
            return Err(ApiError::invalid(
                name.as_str(),
                format!("unknown field {name:?}; known fields: {}", known.join(", ")),
            ));
        }
        let mut probe = defaults.clone();
        probe.insert(name.clone(), value.clone());
        if let Err(e) = serde_json::from_value::<T>(Value::Object(probe)) {
            return Err(ApiError::invalid(name.as_str(), format!("{name}: {e}")));
        }
    }
    Err(ApiError::invalid("", error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result<QueueConfig, ApiError>) -> Option<String> {
        r.err().and_then(|e| e.field)
    }

    fn fields(v: Value) -> Map<String, Value> {
        keyed(v, "dn", "8000").ok().unwrap_or_default()
    }

    #[test]
    fn names_the_field_that_does_not_fit() {
        let template = QueueConfig::new("8000");
        let ok = typed::<QueueConfig>(fields(json!({"name": "Sales"})), &template);
        assert_eq!(ok.ok().map(|q| q.name), Some("Sales".to_string()));
        for (body, field) in [
            (json!({"offer_timeout_secs": "soon"}), "offer_timeout_secs"),
            (json!({"name": "x", "strategy": "random"}), "strategy"),
            (json!({"wrap_up": {"mode": "fixed"}}), "wrap_up"),
            (json!({"max_wait": {"secs": 10}}), "max_wait"),
            (json!({"colour": "blue"}), "colour"),
        ] {
            let got = field_of(typed::<QueueConfig>(fields(body.clone()), &template));
            assert_eq!(got.as_deref(), Some(field), "{body}");
        }
    }

    #[test]
    fn the_path_gives_the_key() {
        assert_eq!(fields(json!({}))["dn"], json!("8000"));
        assert_eq!(fields(json!({"dn": null}))["dn"], json!("8000"));
        assert_eq!(fields(json!({"dn": "8000"}))["dn"], json!("8000"));
        let e = keyed(json!({"dn": "9000"}), "dn", "8000").err();
        assert_eq!(e.and_then(|e| e.field).as_deref(), Some("dn"));
        let e = keyed(json!([1, 2]), "dn", "8000").err();
        assert!(e.is_some_and(|e| e.status == StatusCode::UNPROCESSABLE_ENTITY));
    }
}
