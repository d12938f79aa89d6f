//! Runs axe-core (pinned in the repository's package-lock.json) inside the
//! page under test and returns its violations.

use fantoccini::Client;

/// The WCAG rule sets the consent flow must pass (WCAG 2.2 AA).
const TAGS: &str = r#"["wcag2a","wcag2aa","wcag21a","wcag21aa","wcag22aa","best-practice"]"#;

fn axe_source() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../node_modules/axe-core/axe.min.js"
    );
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("axe-core missing at {path} (run scripts/setup.sh): {e}"))
}

/// One axe violation, summarised for a readable assertion message.
#[derive(Debug)]
pub struct Violation {
    pub id: String,
    pub impact: String,
    pub help: String,
    pub targets: Vec<String>,
    /// The offending elements' HTML (truncated by axe-core).
    pub html: Vec<String>,
}

/// Injects axe-core (through WebDriver, which a page CSP does not govern) and
/// runs it on the whole document.
pub async fn violations(client: &Client) -> Vec<Violation> {
    let inject = format!("{}\nreturn typeof axe;", axe_source());
    client
        .execute(&inject, vec![])
        .await
        .expect("axe-core injects");
    let script = format!(
        "const done = arguments[arguments.length - 1];
         axe.run(document, {{ runOnly: {{ type: 'tag', values: {TAGS} }} }})
            .then(r => done(JSON.stringify(r.violations)))
            .catch(e => done(JSON.stringify([{{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}}])));"
    );
    let raw = client
        .execute_async(&script, vec![])
        .await
        .expect("axe-core runs");
    let text = raw.as_str().unwrap_or("[]");
    let list: Vec<serde_json::Value> = serde_json::from_str(text).unwrap_or_default();
    list.into_iter()
        .map(|v| Violation {
            id: v["id"].as_str().unwrap_or_default().to_owned(),
            impact: v["impact"].as_str().unwrap_or_default().to_owned(),
            help: v["help"].as_str().unwrap_or_default().to_owned(),
            targets: v["nodes"]
                .as_array()
                .map(|nodes| {
                    nodes
                        .iter()
                        .map(|n| n["target"].to_string())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default(),
            html: v["nodes"]
                .as_array()
                .map(|nodes| {
                    nodes
                        .iter()
                        .map(|n| {
                            n["html"]
                                .as_str()
                                .unwrap_or_default()
                                .chars()
                                .take(300)
                                .collect()
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// Panics with every violation listed when axe finds any.
pub async fn assert_no_violations(client: &Client, state: &str) {
    let found = violations(client).await;
    if found.is_empty() {
        return;
    }
    let url = client
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    let body: String = client
        .execute(
            "return document.body ? document.body.outerHTML : '';",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
        .chars()
        .take(4000)
        .collect();
    panic!(
        "axe-core found {} violation(s) in state {state:?} at {url}:\n{found:#?}\n\npage body (first 4000 chars):\n{body}",
        found.len()
    );
}
