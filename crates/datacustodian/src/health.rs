//! Probes for a load balancer or an orchestrator: `/healthz` (the process
//! answers) and `/readyz` (the database answers and carries this server's
//! schema). Neither says why it failed (the log does).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use crate::AppState;

/// `200 {"status":"ok"}` while the process serves requests.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// `200 {"status":"ready"}` when the database answers and every migration
/// is applied; `503 {"status":"unavailable"}` otherwise.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store().ready().await {
        Ok(true) => (StatusCode::OK, Json(json!({"status": "ready"}))),
        Ok(false) => {
            tracing::warn!("readyz: the database schema is not this server's");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable"})),
            )
        }
        Err(e) => {
            tracing::warn!("readyz: {e}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable"})),
            )
        }
    }
}
