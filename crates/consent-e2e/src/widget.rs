//! Driving the consent widget like a customer: wait for a step, fill a
//! field, press a button, read what is shown; plus an early recorder of
//! `gb-consent:*` events and CSP violations.
//!
//! The widget (Leptos) updates the DOM asynchronously, and moves focus and
//! the document title in a `setTimeout(0)` after each step renders: every
//! wait here polls, then lets two animation frames pass.

use std::time::Duration;

use fantoccini::Locator;
use fantoccini::elements::Element;

use crate::axe;
use crate::browser::Browser;
use crate::eventually::{eventually, eventually_true};

/// How long a step may take to appear.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// Installed with [`Browser::add_init_script`] before the first page loads:
/// records every `gb-consent:*` event (type and detail), every
/// `securitypolicyviolation` and every layout shift not caused by input in
/// `window.__e2e`.
pub const RECORDER: &str = r#"
(() => {
  const rec = { events: [], csp: [] };
  Object.defineProperty(window, '__e2e', { value: rec });
  for (const name of ['ready', 'step', 'authorized', 'declined', 'error']) {
    document.addEventListener('gb-consent:' + name, (e) => {
      let detail = null;
      try { detail = JSON.parse(JSON.stringify(e.detail)); } catch (_) {}
      rec.events.push({ type: e.type, detail,
        target: e.target && e.target.tagName ? e.target.tagName.toLowerCase() + (e.target.id ? '#' + e.target.id : '') : '' });
    }, true);
  }
  rec.shifts = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (!e.hadRecentInput) rec.shifts.push(e.value);
      }
    }).observe({ type: 'layout-shift', buffered: true });
  } catch (_) {}
  document.addEventListener('securitypolicyviolation', (e) => {
    rec.csp.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample || '' });
  }, true);
})();
"#;

/// Forces a full garbage collection and lets finalizers run (the browser
/// is started with `--js-flags=--expose-gc`).
pub async fn force_gc(b: &Browser) {
    for _ in 0..3 {
        let _ = b
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 if (window.gc) { window.gc(); }
                 setTimeout(done, 100);",
                vec![],
            )
            .await;
    }
    settle(b).await;
}

/// Lets pending microtasks, timeouts and two animation frames run.
pub async fn settle(b: &Browser) {
    let _ = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 0))), 0);",
            vec![],
        )
        .await;
}

/// The `data-step` of the widget's root (`None` before it mounts).
pub async fn step(b: &Browser) -> Option<String> {
    b.client
        .execute(
            "const r = document.querySelector('.gbc[data-step]'); return r ? r.dataset.step : null;",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
}

/// The visible text of the page body.
pub async fn page_text(b: &Browser) -> String {
    b.client
        .execute(
            "return document.body ? document.body.innerText : '';",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Waits for the widget to show `name` (`sign-in`, `code`, `consent`,
/// `done`, `error`) with its heading rendered; panics with what is shown
/// instead.
pub async fn wait_step(b: &Browser, name: &str) {
    let css = format!(".gbc[data-step=\"{name}\"] .gbc-h");
    let css = css.as_str();
    let shown = eventually_true(STEP_TIMEOUT, || async move {
        b.client.find(Locator::Css(css)).await.is_ok()
    })
    .await;
    if shown {
        settle(b).await;
        return;
    }
    let url = b
        .client
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    panic!(
        "the widget did not reach the step {name:?} in {STEP_TIMEOUT:?}; it shows step {:?} at {url}:\n{}",
        step(b).await,
        page_text(b).await
    );
}

/// Waits for a page whose URL starts with `prefix`.
pub async fn wait_url(b: &Browser, prefix: &str, timeout: Duration) -> String {
    eventually(timeout, || async move {
        let url = b
            .client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        if url.starts_with(prefix) {
            Ok(url)
        } else {
            Err(url)
        }
    })
    .await
    .unwrap_or_else(|url| {
        panic!("the browser did not reach {prefix} in {timeout:?}; it is at {url}")
    })
}

/// The element matching `css` (waits up to 15 s).
pub async fn el(b: &Browser, css: &str) -> Element {
    b.wait_for(css).await
}

/// Types `text` into the input matching `css` (after clearing it).
pub async fn fill(b: &Browser, css: &str, text: &str) {
    replace_text(&el(b, css).await, css, text).await;
}

/// Clears an input and types `text` into it; `what` names it in failures.
async fn replace_text(e: &Element, what: &str, text: &str) {
    e.clear()
        .await
        .unwrap_or_else(|err| panic!("clear {what}: {err}"));
    e.send_keys(text)
        .await
        .unwrap_or_else(|err| panic!("type into {what}: {err}"));
}

/// The first element matching `xpath` (waits up to 15 s); `what` names it
/// in the failure.
async fn wait_xpath(b: &Browser, xpath: &str, what: &str) -> Element {
    b.client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|e| panic!("no {what}: {e}"))
}

/// The input labelled `label` (its `<label for>` text, exactly, ignoring
/// surrounding spaces): finds fields the way a customer does.
pub async fn field(b: &Browser, label: &str) -> Element {
    let xpath = format!(
        "//input[@id = //label[normalize-space(.) = {}]/@for]",
        xpath_literal(label)
    );
    wait_xpath(b, &xpath, &format!("field labelled {label:?}")).await
}

/// Types into the field labelled `label`.
pub async fn fill_labelled(b: &Browser, label: &str, text: &str) {
    replace_text(&field(b, label).await, label, text).await;
}

/// The button (or link styled as one) whose text is exactly `text`.
pub async fn button(b: &Browser, text: &str) -> Element {
    let xpath = format!(
        "//*[self::button or self::a][normalize-space(.) = {}]",
        xpath_literal(text)
    );
    wait_xpath(b, &xpath, &format!("button {text:?}")).await
}

/// Clicks the button whose text is exactly `text`.
pub async fn press(b: &Browser, text: &str) {
    button(b, text)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {text:?}: {e}"));
}

/// Clicks the element matching `css`.
pub async fn click(b: &Browser, css: &str) {
    el(b, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// The text of the element matching `css`.
pub async fn text(b: &Browser, css: &str) -> String {
    el(b, css)
        .await
        .text()
        .await
        .unwrap_or_else(|e| panic!("text of {css}: {e}"))
}

/// Runs axe-core after the page settles; panics on any violation.
pub async fn check_a11y(b: &Browser, state: &str) {
    settle(b).await;
    axe::assert_no_violations(&b.client, state).await;
}

/// The `gb-consent:*` events recorded by [`RECORDER`] on this page, as
/// `(type, detail)`.
pub async fn events(b: &Browser) -> Vec<(String, serde_json::Value)> {
    let v = b
        .client
        .execute("return window.__e2e ? window.__e2e.events : null;", vec![])
        .await
        .expect("read the recorded events");
    let list = v
        .as_array()
        .cloned()
        .expect("the recorder is installed (Browser::add_init_script(RECORDER))");
    list.into_iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap_or_default().to_string(),
                e["detail"].clone(),
            )
        })
        .collect()
}

/// The CSP violations recorded by [`RECORDER`] on this page.
pub async fn csp_violations(b: &Browser) -> Vec<serde_json::Value> {
    let v = b
        .client
        .execute("return window.__e2e ? window.__e2e.csp : null;", vec![])
        .await
        .expect("read the recorded CSP violations");
    v.as_array()
        .cloned()
        .expect("the recorder is installed (Browser::add_init_script(RECORDER))")
}

/// The cumulative layout shift recorded by [`RECORDER`] on this page.
pub async fn layout_shift(b: &Browser) -> f64 {
    b.client
        .execute(
            "return window.__e2e ? window.__e2e.shifts.reduce((a, b) => a + b, 0) : null;",
            vec![],
        )
        .await
        .expect("read the layout shifts")
        .as_f64()
        .expect("the recorder is installed (Browser::add_init_script(RECORDER))")
}

/// Emulates `prefers-color-scheme` / `prefers-reduced-motion` (CSS media
/// features), e.g. `&[("prefers-color-scheme", "dark")]`.
pub async fn emulate_media(b: &Browser, features: &[(&str, &str)]) {
    let list: Vec<serde_json::Value> = features
        .iter()
        .map(|(n, v)| serde_json::json!({ "name": n, "value": v }))
        .collect();
    b.cdp(
        "Emulation.setEmulatedMedia",
        serde_json::json!({ "features": list }),
    )
    .await;
}

/// The interactive elements of the widget smaller than 24 x 24 CSS pixels
/// (WCAG 2.2 target size), except links inside a sentence.
pub async fn small_targets(b: &Browser) -> Vec<String> {
    let v = b
        .client
        .execute(
            "return [...document.querySelectorAll('.gbc button, .gbc input, .gbc select, .gbc summary, .gbc a')]
               .filter(e => e.offsetParent !== null && e.type !== 'hidden')
               .filter(e => !(e.tagName === 'A' && e.closest('p, li') && !e.classList.contains('gbc-button')))
               .map(e => [e, e.getBoundingClientRect()])
               .filter(([e, r]) => r.width < 24 || r.height < 24)
               .map(([e, r]) => `${e.outerHTML.slice(0, 120)} (${Math.round(r.width)}x${Math.round(r.height)})`);",
            vec![],
        )
        .await
        .expect("measure the targets");
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// An XPath string literal for any text.
pub fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}
