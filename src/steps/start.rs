//! Step 1: loading the request, and the pages shown when the flow cannot
//! go on (unknown, expired or decided request, another session, backend
//! unreachable). Never a blank screen.

use web_sys::Element;

use crate::app::{Failure, Flow};
use crate::dom::{button, el, on, set, txt};
use crate::i18n::M;
use crate::ui::{heading, p};

/// Component: while the context loads.
pub fn loading(flow: Flow, parent: &Element) {
    let d = el(parent, "div", "gbc-loading");
    set(&el(&d, "span", "gbc-spinner"), "aria-hidden", "true");
    txt(&d, "p", "gbc-loading__text", flow.t(M::Loading));
}

/// Component: the page for a [`Failure`], with Retry when retrying can help.
pub fn failure_page(flow: Flow, parent: &Element) {
    let failure = flow.data(|d| d.failure).unwrap_or_default();
    let (title, body) = match failure {
        Failure::Unknown => (M::FailUnknownTitle, M::FailUnknownBody),
        Failure::Expired => (M::FailExpiredTitle, M::FailExpiredBody),
        Failure::Decided => (M::FailDecidedTitle, M::FailDecidedBody),
        Failure::NotYours => (M::FailNotYoursTitle, M::FailNotYoursBody),
        Failure::Unreachable => (M::FailUnreachableTitle, M::FailUnreachableBody),
        Failure::Server => (M::FailServerTitle, M::FailServerBody),
        Failure::Session => (M::FailSessionTitle, M::FailSessionBody),
    };
    let d = el(parent, "div", "gbc-step gbc-failure");
    set(&d, "data-failure", failure.code());
    heading(flow, &d, flow.t(title));
    p(&d, flow.t(body));
    if failure.retryable() {
        let b = button(&d, "gbc-button", flow.t(M::Retry), false);
        on(&b, "click", Box::new(move |_| flow.load()));
    }
}
