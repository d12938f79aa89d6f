//! A headless Chromium session through ChromeDriver, one per test.
//!
//! At most [`max_browsers`] sessions run at once in a test binary (default
//! 2, `E2E_BROWSERS=n` to change): the machines have two cores, and a
//! starved Chromium makes tests time out. `cargo test` needs no extra flags.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::process::{Child, Command};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A ChromeDriver process and the WebDriver session on it. Call
/// [`Browser::close`] at the end of a test; `Drop` kills ChromeDriver (and
/// with it Chromium) even when the test fails, so no orphans pile up.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
    port: u16,
    session: Option<String>,
    closed: bool,
    _profile: TempDir,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Browser {
    /// A test that panicked never reached [`Browser::close`]: end the
    /// WebDriver session (so ChromeDriver quits Chromium) with a blocking
    /// `DELETE /session/{id}`, then ChromeDriver is killed (`kill_on_drop`).
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        if let Some(id) = &self.session {
            use std::io::{Read, Write};
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
            if let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = write!(
                    s,
                    "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    self.port
                );
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
            }
        }
        let _ = self.driver.start_kill();
    }
}

/// How to start a browser: window size and languages.
#[derive(Debug, Clone)]
pub struct Options {
    /// Window width in CSS pixels.
    pub width: u32,
    /// Window height in CSS pixels.
    pub height: u32,
    /// Browser languages (`navigator.languages`, `Accept-Language`), e.g.
    /// `"es-ES,es"`; `None` = Chromium's default (en-US).
    pub languages: Option<String>,
    /// More Chromium flags, e.g. [`crate::tls::TestTls::chromium_args`]
    /// (host mapping and the test certificate).
    pub args: Vec<String>,
    /// Third-party cookies: `Some(true)` blocks them, as Chrome's setting
    /// and Safari's and Firefox's defaults do
    /// (`--test-third-party-cookie-phaseout` and the profile's cookie
    /// controls); `Some(false)` allows them; `None` leaves Chromium's
    /// default.
    pub third_party_cookies_blocked: Option<bool>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            width: 1024,
            height: 900,
            languages: None,
            args: Vec::new(),
            third_party_cookies_blocked: None,
        }
    }
}

/// A throw-away directory removed on drop (Chromium's profile).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// How many browsers may run at once in this process (`E2E_BROWSERS`,
/// default 2).
pub fn max_browsers() -> usize {
    std::env::var("E2E_BROWSERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(2)
}

static SLOTS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(max_browsers())));

/// A raw ChromeDriver command on the current session:
/// `POST /session/{id}/{path}` with a JSON body.
#[derive(Debug)]
struct SessionPost {
    path: &'static str,
    body: serde_json::Value,
}

impl WebDriverCompatibleCommand for SessionPost {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

impl Browser {
    /// Starts ChromeDriver (`$CHROMEDRIVER`, default `/usr/bin/chromedriver`)
    /// and a headless Chromium (`$CHROMIUM`, default `/usr/bin/chromium`)
    /// with a fresh profile and no background networking.
    pub async fn start() -> Browser {
        Self::start_with(Options::default()).await
    }

    /// Like [`Browser::start`] with a window of `width` x `height` CSS pixels
    /// (320 wide for the phone checks).
    pub async fn start_with_size(width: u32, height: u32) -> Browser {
        Self::start_with(Options {
            width,
            height,
            ..Options::default()
        })
        .await
    }

    /// Like [`Browser::start`] with all the [`Options`]. Waits for a free
    /// slot first (see [`max_browsers`]).
    pub async fn start_with(opts: Options) -> Browser {
        let permit = SLOTS
            .clone()
            .acquire_owned()
            .await
            .expect("the browser semaphore is never closed");
        let driver_path =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = free_port();
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {driver_path}: {e}"));
        let profile =
            std::env::temp_dir().join(format!("gbc-e2e-chrome-{}-{port}", std::process::id()));
        let _ = std::fs::create_dir_all(&profile);
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            // window.gc(), for tests of what survives a garbage collection.
            "--js-flags=--expose-gc".into(),
            format!("--window-size={},{}", opts.width, opts.height),
            format!("--user-data-dir={}", profile.display()),
        ];
        args.extend(opts.args.iter().cloned());
        let mut prefs = serde_json::Map::new();
        if let Some(block) = opts.third_party_cookies_blocked {
            if block {
                args.push("--test-third-party-cookie-phaseout".into());
            }
            prefs.insert(
                "profile.cookie_controls_mode".into(),
                u8::from(block).into(),
            );
            prefs.insert("profile.block_third_party_cookies".into(), block.into());
        }
        let mut chrome_options = serde_json::json!({ "binary": chromium });
        if let Some(langs) = &opts.languages {
            let first = langs
                .split(',')
                .next()
                .unwrap_or("en-US")
                .trim()
                .to_string();
            args.push(format!("--lang={first}"));
            prefs.insert("intl.accept_languages".into(), langs.clone().into());
        }
        if !prefs.is_empty() {
            chrome_options["prefs"] = serde_json::Value::Object(prefs);
        }
        chrome_options["args"] = serde_json::json!(args);
        let caps = serde_json::json!({
            "goog:chromeOptions": chrome_options,
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let caps = match caps {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("capabilities are an object"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..100 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    let session = client.session_id().await.ok().flatten();
                    let browser = Browser {
                        client,
                        driver,
                        port,
                        session,
                        closed: false,
                        _profile: TempDir(profile),
                        _permit: permit,
                    };
                    // The headless window size flag is not always exact.
                    let _ = browser
                        .client
                        .set_window_size(opts.width, opts.height)
                        .await;
                    return browser;
                }
                Err(e) => {
                    last_error = Some(e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        panic!("ChromeDriver did not accept a session: {last_error:?}");
    }

    /// Waits (up to 15 s) for an element and returns it.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css:?} appeared: {e}"))
    }

    /// Runs a Chrome DevTools Protocol command (through ChromeDriver's
    /// `goog/cdp/execute`) and returns its result.
    pub async fn cdp(&self, cmd: &str, params: serde_json::Value) -> serde_json::Value {
        self.client
            .issue_cmd(SessionPost {
                path: "goog/cdp/execute",
                body: serde_json::json!({ "cmd": cmd, "params": params }),
            })
            .await
            .unwrap_or_else(|e| panic!("CDP {cmd} failed: {e}"))
    }

    /// Runs `source` at the start of every document this session loads,
    /// before the page's own scripts (`Page.addScriptToEvaluateOnNewDocument`;
    /// not governed by the page's CSP). Use it to install listeners early,
    /// e.g. [`crate::widget::RECORDER`].
    pub async fn add_init_script(&self, source: &str) {
        self.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            serde_json::json!({ "source": source }),
        )
        .await;
    }

    /// The browser console entries logged since the last call (ChromeDriver
    /// `goog:loggingPrefs`), as `(level, message)`.
    pub async fn console_log(&self) -> Vec<(String, String)> {
        let raw = self
            .client
            .issue_cmd(SessionPost {
                path: "se/log",
                body: serde_json::json!({ "type": "browser" }),
            })
            .await
            .unwrap_or_default();
        raw.as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["level"].as_str().unwrap_or_default().to_string(),
                            e["message"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Ends the WebDriver session and ChromeDriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
        self.closed = true;
    }
}
