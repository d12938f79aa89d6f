//! Choosing what to share: with whom and for what, the choices the
//! customer may make (only ever narrower), the exact summary, then
//! "Authorize" or "Decline". One component per visible piece.
//!
//! Grouping follows the scope library's catalog: structural blocks are an
//! "always included" note, each kind of data (usage readings, bills and
//! costs, account details) a checkbox the customer may untick, commodity
//! blocks follow the meters chosen, technical blocks only under "Technical
//! details" (the only place with numbers).

mod choices;
mod share;
mod summary;
pub mod text;
mod third_party;

use espi_scope::{EspiScope, NarrowError};
use leptos::prelude::*;

use crate::api::Meter;
use crate::components::{Heading, SubHeading};
use crate::flow::{Busy, Failure, Step, use_flow};
use crate::i18n::M;
use crate::model::{Defaults, Plan, Selection};
use crate::steps::done::{DeclineButton, post_decision};
pub use share::FIRST_KIND;

/// The consent step's state: the plan read from the request, the
/// customer's meters and the customer's current choices. Provided as
/// context to the step's components.
#[derive(Clone, Copy)]
pub struct Choosing {
    /// The request, read.
    pub plan: StoredValue<Plan>,
    /// The customer's meters.
    pub meters: StoredValue<Vec<Meter>>,
    /// The choices.
    pub sel: RwSignal<Selection>,
}

impl Choosing {
    /// The exact grant for the current choices (tracked).
    pub fn grant(&self) -> Result<EspiScope, NarrowError> {
        self.sel.with(|s| {
            self.plan
                .with_value(|p| self.meters.with_value(|m| p.grant(s, m)))
        })
    }

    /// Reads the plan.
    pub fn plan<T>(&self, f: impl FnOnce(&Plan) -> T) -> T {
        self.plan.with_value(f)
    }
}

fn use_choosing() -> Choosing {
    expect_context::<Choosing>()
}

/// The consent step.
#[component]
pub fn ConsentStep() -> impl IntoView {
    let flow = use_flow();
    let (ctx, customer) = (flow.ctx.get_untracked(), flow.customer.get_untracked());
    let (Some(ctx), Some(customer)) = (ctx, customer) else {
        set_timeout(move || flow.go(Step::SignIn), std::time::Duration::ZERO);
        return ().into_any();
    };
    let defaults = Defaults {
        now: ctx.now,
        end_date: ctx.default_end_date,
        history: ctx.default_history_length,
    };
    let Some(plan) = Plan::new(&ctx.scope, ctx.editable, defaults, &customer.meters) else {
        set_timeout(
            move || flow.fail(Failure::Server),
            std::time::Duration::ZERO,
        );
        return ().into_any();
    };
    let choosing = Choosing {
        sel: RwSignal::new(plan.initial()),
        plan: StoredValue::new(plan),
        meters: StoredValue::new(customer.meters.clone()),
    };
    provide_context(choosing);
    let busy = Busy::new();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.now() {
            return;
        }
        if choosing.plan(|p| p.meter_choices.is_empty()) {
            return flow.error("", flow.t(M::MetersNone));
        }
        let s = choosing.sel.get_untracked();
        if choosing.plan(|p| p.editable && !p.kinds.is_empty()) && s.kinds.is_empty() {
            return flow.error(share::FIRST_KIND, flow.t(M::ErrNoData));
        }
        if s.meters.is_empty() {
            return flow.error("meter-0", flow.t(M::ErrNoMeter));
        }
        let decision = choosing.plan(|p| {
            choosing
                .meters
                .with_value(|m| p.grant(&s, m).ok().map(|_| p.decision(&s, m)))
        });
        match decision {
            Some(d) => busy.run(post_decision(flow, d)),
            None => flow.error("", flow.t(M::ErrDecision)),
        }
    };
    let signed_in_as = (!customer.display_name.is_empty()).then(|| {
        let text = flow.f(M::ConsentSignedInAs, &[("name", &customer.display_name)]);
        view! { <p class="gbc-hint">{text}</p> }
    });
    view! {
        <div class="gbc-step">
            <Heading text=flow.fc(M::ConsentTitle) />
            <third_party::ThirdPartyCard client=ctx.client />
            {signed_in_as}
            <third_party::ScopeOfUsePanel scope_of_use=ctx.scope_of_use />
            <form class="gbc-form" novalidate on:submit=on_submit>
                <SubHeading text=flow.t(M::ShareHeading) />
                <share::WhatYouShare />
                <choices::MeterChoice />
                <choices::HistoryChoice />
                <choices::EndDateChoice />
                <summary::TechnicalDetails requested=ctx.scope />
                <summary::GrantSummary />
                <div class="gbc-actions">
                    <button type="submit" class="gbc-button" disabled=move || busy.get()>
                        {flow.t(M::Authorize)}
                    </button>
                    <DeclineButton label=flow.t(M::Decline) busy=busy />
                </div>
            </form>
        </div>
    }
    .into_any()
}
