//! A headless Chromium session through ChromeDriver, one per test.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use tokio::process::{Child, Command};

/// A ChromeDriver process and the WebDriver session on it. Call
/// [`Browser::close`] at the end of a test; `Drop` kills ChromeDriver (and
/// with it Chromium) even when the test fails, so no orphans pile up.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: TempDir,
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

impl Browser {
    /// Starts ChromeDriver (`$CHROMEDRIVER`, default `/usr/bin/chromedriver`)
    /// and a headless Chromium (`$CHROMIUM`, default `/usr/bin/chromium`)
    /// with a fresh profile and no background networking.
    pub async fn start() -> Browser {
        Self::start_with_size(1024, 900).await
    }

    /// Like [`Browser::start`] with a window of `width` x `height` CSS pixels
    /// (320 wide for the phone checks).
    pub async fn start_with_size(width: u32, height: u32) -> Browser {
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
        let profile = std::env::temp_dir().join(format!(
            "gbc-e2e-chrome-{}-{port}",
            std::process::id()
        ));
        let _ = std::fs::create_dir_all(&profile);
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let caps = match caps {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("capabilities are an object"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..100 {
            match ClientBuilder::native()
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        driver,
                        _profile: TempDir(profile),
                    };
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

    /// Ends the WebDriver session and ChromeDriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }
}
