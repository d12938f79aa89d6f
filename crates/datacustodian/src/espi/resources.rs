//! The Green Button data resources (issue 13), under `/espi/1_1/resource/`:
//!
//! | path | token |
//! |---|---|
//! | `GET Batch/Subscription/{id}` | its `access_token` (or a `datacustodian_access_token`) |
//! | `GET Batch/Subscription/{id}/UsagePoint[/{usagePointId}]` | the same |
//! | `GET Batch/RetailCustomer/{id}` | an `access_token` whose grant has account details |
//! | `GET Batch/Bulk/{bulkId}` | the client's `client_access_token` |
//! | `POST Batch/RetailCustomer/{id}/UsagePoint` | an `upload_access_token` |
//! | `GET`/`PUT ApplicationInformation/{id}` | that client's `registration_access_token` |
//!
//! Feeds take the FB 37 query parameters and are streamed.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use tokio::sync::mpsc;

use crate::AppState;
use crate::error::ResourceError;
use crate::espi::grant::{FeedQuery, Grant, Window};
use crate::espi::subscription::{self, Sub};
use crate::espi::writer::{self, Head, Sink, seg};
use crate::espi::{appinfo, bearer, customer, import};
use crate::store::{Authorization, TokenKind, TokenRow};

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/espi/1_1/resource/Batch/Subscription/{id}",
            get(subscription_feed),
        )
        .route(
            "/espi/1_1/resource/Batch/Subscription/{id}/UsagePoint",
            get(usage_point_feed),
        )
        .route(
            "/espi/1_1/resource/Batch/Subscription/{id}/UsagePoint/{usage_point}",
            get(usage_point_entry),
        )
        .route(
            "/espi/1_1/resource/Batch/RetailCustomer/{id}",
            get(customer::retail_customer),
        )
        .route(
            "/espi/1_1/resource/Batch/RetailCustomer/{id}/UsagePoint",
            axum::routing::post(import::upload)
                .layer(axum::extract::DefaultBodyLimit::max(import::MAX_UPLOAD)),
        )
        .route("/espi/1_1/resource/Batch/Bulk/{bulk_id}", get(bulk_feed))
        .route(
            "/espi/1_1/resource/ApplicationInformation/{id}",
            get(appinfo::get_info).put(appinfo::put_info),
        )
}

/// `application/atom+xml` on a body.
pub fn atom(body: impl Into<Body>) -> Response {
    let mut resp = Response::new(body.into());
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/atom+xml; charset=utf-8"),
    );
    resp
}

/// The subscription `id` as `tok` may read it: its own access token (or a
/// `datacustodian_access_token`), an active authorization.
pub async fn subscription_access(
    state: &AppState,
    tok: &TokenRow,
    id: &str,
) -> Result<(Authorization, Sub), ResourceError> {
    let allowed = match tok.kind {
        TokenKind::Access => tok.authorization_id.as_deref() == Some(id),
        TokenKind::DataCustodianAccess => true,
        _ => false,
    };
    if !allowed {
        return Err(ResourceError::InsufficientScope);
    }
    let a = state
        .store()
        .authorization(id)
        .await?
        .ok_or(ResourceError::NotFound)?;
    let sub = sub_of(state, &a).await?;
    Ok((a, sub))
}

/// The writable view of an authorization; 401 when it no longer grants.
pub async fn sub_of(state: &AppState, a: &Authorization) -> Result<Sub, ResourceError> {
    let now = state.now();
    if a.status(now) != "active" {
        return Err(ResourceError::InvalidToken(
            "the authorization is revoked or expired",
        ));
    }
    let grant = Grant::of(a, now);
    let meters = state
        .store()
        .meters(&a.customer_id)
        .await?
        .into_iter()
        .filter(|m| grant.meters.contains(&m.said))
        .collect();
    Ok(Sub {
        id: a.authorization_id.clone(),
        grant,
        meters,
        granted_at: a.granted_at,
    })
}

fn window(q: &FeedQuery) -> Result<Window, ResourceError> {
    q.window().map_err(ResourceError::BadRequest)
}

enum Job {
    Full(Vec<Sub>),
    UsagePoints(Sub),
}

/// Streams a feed: the body is written by a task as the client reads it
/// (a bounded channel: at most a few 64 KiB chunks in memory).
fn stream_feed(
    state: AppState,
    key: String,
    href: String,
    title: &'static str,
    window: Window,
    job: Job,
) -> Response {
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        let mut sink = Sink::new(tx, window);
        writer::feed_start(&mut sink.buf, &key, &href, title, state.now());
        let done = match &job {
            Job::Full(subs) => {
                subscription::local_time_entry(
                    &state,
                    &mut sink,
                    subs.first().map_or(0, |s| s.granted_at),
                );
                let mut r = Ok(());
                for s in subs {
                    r = subscription::write_subscription(&state, &mut sink, s).await;
                    if r.is_err() {
                        break;
                    }
                }
                r
            }
            Job::UsagePoints(sub) => {
                subscription::usage_point_entries(&state, &mut sink, sub);
                Ok(())
            }
        };
        if done.is_ok() {
            writer::feed_end(&mut sink.buf);
            let _ = sink.flush(true).await;
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    atom(Body::from_stream(stream))
}

async fn subscription_feed(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<FeedQuery>,
    headers: HeaderMap,
) -> Result<Response, ResourceError> {
    let tok = bearer(&state, &headers).await?;
    let (_, sub) = subscription_access(&state, &tok, &id).await?;
    let w = window(&q)?;
    let href = sub.href(&state);
    Ok(stream_feed(
        state,
        format!("subscription/{id}"),
        href,
        "Green Button Subscription",
        w,
        Job::Full(vec![sub]),
    ))
}

async fn usage_point_feed(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<FeedQuery>,
    headers: HeaderMap,
) -> Result<Response, ResourceError> {
    let tok = bearer(&state, &headers).await?;
    let (_, sub) = subscription_access(&state, &tok, &id).await?;
    let w = window(&q)?;
    let href = sub.usage_points_href(&state);
    Ok(stream_feed(
        state,
        format!("subscription/{id}/usagepoints"),
        href,
        "UsagePoint",
        w,
        Job::UsagePoints(sub),
    ))
}

async fn usage_point_entry(
    State(state): State<AppState>,
    Path((id, usage_point)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ResourceError> {
    let tok = bearer(&state, &headers).await?;
    let (_, sub) = subscription_access(&state, &tok, &id).await?;
    // Only a granted meter: an ungranted one is as absent as an unknown one.
    let m = sub
        .meters
        .iter()
        .find(|m| m.said == usage_point)
        .ok_or(ResourceError::NotFound)?;
    let h: Head = subscription::usage_point_head(&state, &sub, m, true);
    let mut buf = Vec::new();
    writer::entry(&mut buf, &h, true, |x| writer::usage_point(x, m));
    Ok(atom(buf))
}

async fn bulk_feed(
    State(state): State<AppState>,
    Path(bulk_id): Path<String>,
    Query(q): Query<FeedQuery>,
    headers: HeaderMap,
) -> Result<Response, ResourceError> {
    let tok = bearer(&state, &headers).await?;
    if tok.kind != TokenKind::ClientAccess {
        return Err(ResourceError::InsufficientScope);
    }
    let w = window(&q)?;
    let now = state.now();
    let mut subs = Vec::new();
    for a in state
        .store()
        .authorizations_of_client(&tok.client_id)
        .await?
    {
        if a.status(now) != "active" {
            continue;
        }
        let g = Grant::of(&a, now);
        if g.bulk_id.as_deref() != Some(bulk_id.as_str()) {
            continue;
        }
        subs.push(sub_of(&state, &a).await?);
    }
    if subs.is_empty() {
        // Nothing of this client under that id (or not yet): an empty feed
        // would look like "no data"; a bulk id no one granted is unknown.
        let known = state
            .store()
            .authorizations_of_client(&tok.client_id)
            .await?
            .iter()
            .any(|a| Grant::of(a, now).bulk_id.as_deref() == Some(bulk_id.as_str()));
        if !known {
            return Err(ResourceError::NotFound);
        }
    }
    let href = state.url(&format!("/espi/1_1/resource/Batch/Bulk/{}", seg(&bulk_id)));
    Ok(stream_feed(
        state,
        format!("bulk/{}/{bulk_id}", tok.client_id),
        href,
        "Green Button Bulk",
        w,
        Job::Full(subs),
    ))
}
