//! The playground UI: four tabs (Build, Decode, Preview, Try it), one module
//! each, and the built-in redirect page at `/playground/callback`.
//!
//! Shared state lives in the reactive context rather than in props: the
//! page state (`RwSignal<PageState>`) and the secrets of the next request
//! (`RwSignal<Secrets>`), provided by [`Playground`]; the status line
//! ([`Status`]), provided by [`App`].

mod build;
mod callback;
mod decode;
mod preview_tab;
mod try_it;

use espi_scope::Duration;
use espi_scope::pkce::{self, Pkce};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser;
use crate::model::{INTERVAL_OPTIONS, PageState, Tab, Theme};

/// Where the callback page finds what the Try-it tab started.
const PENDING_KEY: &str = "scope-playground.pending";
/// The demo DataCustodian's sandbox (see SERVER-CONTRACT.md).
const SANDBOX_URL: &str = "/playground/sandbox.json";
/// The built-in redirect page.
const CALLBACK_PATH: &str = "/playground/callback";

/// The state and PKCE pair of the next authorization request (never in
/// the URL).
#[derive(Clone, Debug, PartialEq)]
struct Secrets {
    state: String,
    verifier: String,
    challenge: String,
}

impl Secrets {
    fn generate() -> Secrets {
        let Pkce {
            verifier,
            challenge,
        } = Pkce::from_random(&browser::random_bytes::<32>());
        Secrets {
            state: pkce::base64url(&browser::random_bytes::<16>()),
            challenge,
            verifier,
        }
    }
}

/// The page state (from the context [`Playground`] provides).
fn page_state() -> RwSignal<PageState> {
    expect_context::<RwSignal<PageState>>()
}

/// The secrets of the next request (from the context).
fn secrets() -> RwSignal<Secrets> {
    expect_context::<RwSignal<Secrets>>()
}

/// The demo client, from the server's sandbox JSON.
#[derive(Clone, Debug, PartialEq)]
struct Sandbox {
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    authorization_endpoint: String,
    token_endpoint: String,
    issuer: String,
}

fn str_field(v: &serde_json::Value, k: &str) -> String {
    v.get(k)
        .and_then(|x| x.as_str())
        .unwrap_or_default()
        .to_string()
}

/// The demo sandbox, or why there is none.
async fn load_sandbox() -> Result<Sandbox, String> {
    match browser::fetch_text(SANDBOX_URL, None).await {
        Ok((200, body)) => match serde_json::from_str::<serde_json::Value>(&body) {
            Ok(v) => Ok(Sandbox {
                client_id: str_field(&v, "client_id"),
                client_secret: str_field(&v, "client_secret"),
                redirect_uri: str_field(&v, "redirect_uri"),
                authorization_endpoint: str_field(&v, "authorization_endpoint"),
                token_endpoint: str_field(&v, "token_endpoint"),
                issuer: str_field(&v, "issuer"),
            }),
            Err(e) => Err(format!("The sandbox answer is not JSON: {e}.")),
        },
        Ok((status, _)) => Err(format!(
            "This server has no demo sandbox (HTTP {status} for {SANDBOX_URL}). Start the demo DataCustodian with --demo."
        )),
        Err(e) => Err(e),
    }
}

/// The polite live region at the bottom of the page.
#[derive(Clone, Copy)]
struct Status(RwSignal<String>);

impl Status {
    /// The status line (from the context [`App`] provides).
    fn get() -> Status {
        expect_context::<Status>()
    }

    /// Says `msg` in the live region.
    fn announce(self, msg: String) {
        // Clear first so the same message is announced again.
        self.0.set(String::new());
        spawn_local(async move {
            self.0.set(msg);
        });
    }

    /// Copies `text` to the clipboard and says whether it worked.
    fn copy(self, what: &'static str, text: String) {
        spawn_local(async move {
            let msg = if browser::copy_text(&text).await {
                format!("{what} copied to the clipboard.")
            } else {
                format!(
                    "Could not copy the {}: select it and copy it by hand.",
                    what.to_lowercase()
                )
            };
            self.announce(msg);
        });
    }
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let status = Status(RwSignal::new(String::new()));
    provide_context(status);
    let body = if browser::pathname().ends_with(CALLBACK_PATH) {
        view! { <callback::Callback/> }.into_any()
    } else {
        view! { <Playground/> }.into_any()
    };
    view! {
        <a class="skip" href="#main">"Skip to the content"</a>
        <header class="site">
            <p class="brand">"Green Button Connect My Data"</p>
        </header>
        <main id="main" tabindex="-1">{body}</main>
        <p class="status" role="status" aria-live="polite">{move || status.0.get()}</p>
        <footer class="site">
            <p>
                "Scope grammar: GBA ESPI OAuth2 Scope Definition. This page never calls the consent API; only Try it talks to the demo DataCustodian."
            </p>
        </footer>
    }
}

/// The four tabs; provides the page state and the secrets.
#[component]
fn Playground() -> impl IntoView {
    let initial = PageState::from_query(&browser::search());
    let extra_intervals: Vec<Duration> = initial
        .form
        .intervals
        .iter()
        .copied()
        .filter(|d| !INTERVAL_OPTIONS.contains(d))
        .collect();
    let state = RwSignal::new(initial);
    provide_context(state);
    provide_context(RwSignal::new(Secrets::generate()));
    sync_url(state);
    Effect::new(move |_| {
        let theme = state.with(|s| s.theme);
        browser::set_root_attribute("data-theme", theme.as_str());
    });
    let open = Memo::new(move |_| state.with(|s| s.tab));
    view! {
        <h1>"Scope playground"</h1>
        <p class="lead">
            "Build a Green Button Connect My Data authorization request, decode one you were given, preview the consent screen your customers will see, and try the whole flow against the demo DataCustodian."
        </p>
        <ThemePick/>
        <TabList open=open/>
        <TabPanel tab=Tab::Build open=open>
            <build::BuildPanel extra_intervals=extra_intervals/>
        </TabPanel>
        <TabPanel tab=Tab::Decode open=open>
            <decode::DecodePanel/>
        </TabPanel>
        <TabPanel tab=Tab::Preview open=open>
            <preview_tab::PreviewPanel/>
        </TabPanel>
        <TabPanel tab=Tab::TryIt open=open>
            <try_it::TryPanel/>
        </TabPanel>
    }
}

/// Keeps the URL reproducing the page. Debounced: browsers throttle
/// history.replaceState (Chromium: 200 calls in 10 s), and typing fires an
/// update per key.
fn sync_url(state: RwSignal<PageState>) {
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let q = state.with(|s| s.to_query());
        let n = generation.get_value().wrapping_add(1);
        generation.set_value(n);
        set_timeout(
            move || {
                if generation.get_value() == n {
                    browser::replace_url(&format!("?{q}"));
                }
            },
            std::time::Duration::from_millis(150),
        );
    });
}

/// The theme of the page (and of the preview).
#[component]
fn ThemePick() -> impl IntoView {
    let state = page_state();
    let option = move |t: Theme| {
        let label = match t {
            Theme::Auto => "Same as the system",
            Theme::Light => "Light",
            Theme::Dark => "Dark",
        };
        view! {
            <option value=t.as_str() prop:selected=move || state.with(|s| s.theme == t)>
                {label}
            </option>
        }
    };
    view! {
        <div class="theme-pick">
            <label for="theme">"Theme"</label>
            <select
                id="theme"
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    state.update(|s| s.theme = Theme::from_name(&v).unwrap_or_default());
                }
            >
                {Theme::ALL.into_iter().map(option).collect_view()}
            </select>
        </div>
    }
}

/// The tab buttons (ARIA tabs: arrow keys, Home and End move the focus).
#[component]
fn TabList(
    /// The open tab.
    open: Memo<Tab>,
) -> impl IntoView {
    let state = page_state();
    let select_tab = move |t: Tab, focus: bool| {
        state.update(|s| s.tab = t);
        if focus {
            browser::focus(&format!("tab-{}", t.id()));
        }
    };
    let on_tab_key = move |ev: leptos::ev::KeyboardEvent| {
        let cur = Tab::ALL.iter().position(|t| *t == open.get()).unwrap_or(0);
        let n = Tab::ALL.len();
        let next = match ev.key().as_str() {
            "ArrowRight" => (cur + 1) % n,
            "ArrowLeft" => (cur + n - 1) % n,
            "Home" => 0,
            "End" => n - 1,
            _ => return,
        };
        ev.prevent_default();
        select_tab(Tab::ALL[next], true);
    };
    let button = move |t: Tab| {
        view! {
            <button
                type="button"
                role="tab"
                id=format!("tab-{}", t.id())
                aria-controls=format!("panel-{}", t.id())
                aria-selected=move || if open.get() == t { "true" } else { "false" }
                tabindex=move || if open.get() == t { "0" } else { "-1" }
                on:click=move |_| select_tab(t, false)
            >
                {t.label()}
            </button>
        }
    };
    view! {
        <div class="tabs" role="tablist" aria-label="Playground" on:keydown=on_tab_key>
            {Tab::ALL.into_iter().map(button).collect_view()}
        </div>
    }
}

/// The panel of one tab, hidden unless it is open.
#[component]
fn TabPanel(
    /// The tab this panel shows.
    tab: Tab,
    /// The open tab.
    open: Memo<Tab>,
    children: Children,
) -> impl IntoView {
    view! {
        <section
            id=format!("panel-{}", tab.id())
            role="tabpanel"
            aria-labelledby=format!("tab-{}", tab.id())
            tabindex="0"
            hidden=move || open.get() != tab
        >
            {children()}
        </section>
    }
}
