//! Load shedding: the client IP (from `X-Forwarded-For` only behind a
//! trusted proxy), per-IP and global rate limits on the anonymous endpoints
//! (`governor` token buckets), and the bound on concurrent password hashes.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::AppState;
use crate::config::{Config, Rate};
use crate::error::{ApiError, AuthorizeError};

/// The client's IP address as this server believes it (see
/// [`client_ip`]). Every request carries one (an extension set by
/// [`client_ip_layer`]); `0.0.0.0` when the server was started without
/// connection info.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .unwrap_or(ClientIp(IpAddr::from([0, 0, 0, 0]))))
    }
}

impl ClientIp {
    /// The address as text, for throttle keys. IPv6 addresses count per
    /// /64 (one customer's network), IPv4 per address.
    pub fn subject(&self) -> String {
        rate_key(self.0).to_string()
    }
}

/// The client IP of a request from `peer`: the peer itself, unless it is a
/// trusted proxy; then the right-most `X-Forwarded-For` entry that is not a
/// trusted proxy (entries further left are the client's to write and are
/// not believed).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let mut hops: Vec<IpAddr> = Vec::new();
    for v in headers.get_all("x-forwarded-for") {
        let Ok(v) = v.to_str() else {
            return peer;
        };
        for part in v.split(',') {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) => hops.push(ip),
                // Unreadable: believe nothing to the left of it.
                Err(_) => hops.clear(),
            }
        }
    }
    hops.into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}

/// Sets [`ClientIp`] on every request.
pub async fn client_ip_layer(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let ip = client_ip(peer, req.headers(), &state.config().trusted_proxies);
    req.extensions_mut().insert(ClientIp(ip));
    next.run(req).await
}

fn rate_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

fn quota(r: Rate) -> Quota {
    let n = NonZeroU32::new(r.per_second).unwrap_or(NonZeroU32::MIN);
    let b = NonZeroU32::new(r.burst).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(n).allow_burst(b)
}

/// The limiters and the hash permits of one server.
#[derive(Debug)]
pub struct Limits {
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    global: Option<DefaultDirectRateLimiter>,
    hashes: Arc<Semaphore>,
}

impl Limits {
    /// From the configuration.
    pub fn new(config: &Config) -> Limits {
        Limits {
            per_ip: config.rate_per_ip.map(|r| RateLimiter::keyed(quota(r))),
            global: config.rate_global.map(|r| RateLimiter::direct(quota(r))),
            hashes: Arc::new(Semaphore::new(config.max_concurrent_hashes.max(1))),
        }
    }

    /// `Ok` when `ip` may make one more anonymous request now, else how
    /// long to wait.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        let now = DefaultClock::default().now();
        if let Some(l) = &self.per_ip
            && let Err(n) = l.check_key(&rate_key(ip))
        {
            return Err(n.wait_time_from(now));
        }
        if let Some(l) = &self.global
            && let Err(n) = l.check()
        {
            return Err(n.wait_time_from(now));
        }
        Ok(())
    }

    /// A permit to compute one password hash, or `None` when as many
    /// hashes as allowed are running (the caller sheds the request).
    pub fn hash_permit(&self) -> Option<OwnedSemaphorePermit> {
        self.hashes.clone().try_acquire_owned().ok()
    }

    /// Forgets per-IP buckets that are full again (housekeeping).
    pub fn shrink(&self) {
        if let Some(l) = &self.per_ip {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

fn seconds(d: Duration) -> i64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1) as i64
}

/// The rate limit of the anonymous endpoints: 429 with `Retry-After` (JSON
/// `rate_limited` on the API, an HTML page on `/oauth/authorize`).
pub async fn rate_limit(
    State(state): State<AppState>,
    ip: ClientIp,
    req: Request,
    next: Next,
) -> Response {
    match state.limits().check(ip.0) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            let secs = seconds(wait);
            if req.uri().path().starts_with("/api/") {
                ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "too many requests; wait before trying again",
                )
                .retry_after(secs)
                .into_response()
            } else {
                let mut resp = AuthorizeError::Page(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many requests are arriving. Please wait a moment and try again."
                        .to_string(),
                )
                .into_response();
                if let Ok(v) = secs.to_string().parse() {
                    resp.headers_mut()
                        .insert(axum::http::header::RETRY_AFTER, v);
                }
                resp
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().expect("header"));
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().expect("ip");
        let peer: IpAddr = "203.0.113.9".parse().expect("ip");
        // Not behind the proxy: the header is ignored.
        assert_eq!(client_ip(peer, &xff("198.51.100.7"), &[proxy]), peer);
        assert_eq!(client_ip(peer, &xff("198.51.100.7"), &[]), peer);
        // Behind it: the right-most untrusted hop, not what the client wrote.
        assert_eq!(
            client_ip(proxy, &xff("1.2.3.4, 198.51.100.7"), &[proxy]),
            "198.51.100.7".parse::<IpAddr>().expect("ip")
        );
        // Chained trusted proxies are skipped.
        let p2: IpAddr = "10.0.0.2".parse().expect("ip");
        assert_eq!(
            client_ip(proxy, &xff("198.51.100.7, 10.0.0.2"), &[proxy, p2]),
            "198.51.100.7".parse::<IpAddr>().expect("ip")
        );
        // No header, or garbage: the proxy itself.
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &[proxy]), proxy);
        assert_eq!(client_ip(proxy, &xff("garbage"), &[proxy]), proxy);
    }

    #[test]
    fn buckets_hold_exactly_their_burst_per_ip_and_globally() {
        let mut c = Config::new("http://127.0.0.1");
        c.rate_per_ip = Some(Rate {
            per_second: 1,
            burst: 5,
        });
        c.rate_global = Some(Rate {
            per_second: 1,
            burst: 8,
        });
        let l = Limits::new(&c);
        let a: IpAddr = "198.51.100.1".parse().expect("ip");
        let b: IpAddr = "198.51.100.2".parse().expect("ip");
        for i in 0..5 {
            assert!(l.check(a).is_ok(), "request {i} of a");
        }
        let wait = l.check(a).expect_err("the 6th from one IP");
        assert!(wait <= Duration::from_secs(1));
        // b has its own bucket, but the global one (8) is shared.
        for i in 0..3 {
            assert!(l.check(b).is_ok(), "request {i} of b");
        }
        assert!(l.check(b).is_err(), "the 9th overall");
    }

    #[test]
    fn hash_permits_are_bounded() {
        let mut c = Config::new("http://127.0.0.1");
        c.max_concurrent_hashes = 2;
        let l = Limits::new(&c);
        let p1 = l.hash_permit().expect("1");
        let _p2 = l.hash_permit().expect("2");
        assert!(l.hash_permit().is_none(), "a third is shed");
        drop(p1);
        assert!(
            l.hash_permit().is_some(),
            "a finished hash frees its permit"
        );
    }

    #[test]
    fn ipv6_counts_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().expect("ip");
        assert_eq!(rate_key(a), rate_key(b));
    }

    #[test]
    fn rates_parse() {
        assert_eq!(
            Rate::parse("10/s:50"),
            Ok(Rate {
                per_second: 10,
                burst: 50
            })
        );
        assert_eq!(
            Rate::parse("7"),
            Ok(Rate {
                per_second: 7,
                burst: 7
            })
        );
        assert!(Rate::parse("0/s").is_err());
        assert!(Rate::parse("fast").is_err());
    }
}
