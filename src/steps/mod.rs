//! One module per step of the flow; [`view`] shows the current one.

pub mod code;
pub mod consent;
pub mod done;
#[cfg(feature = "sharing")]
pub mod sharing;
pub mod sign_in;
pub mod start;

use leptos::prelude::*;

use crate::flow::Step;

/// The component of `step`. Built afresh on every step change, under its
/// own owner, so a step's signals and timers go away with it.
pub fn view(step: Step) -> AnyView {
    match step {
        Step::Loading => view! { <start::Loading /> }.into_any(),
        Step::Error => view! { <start::FailurePage /> }.into_any(),
        Step::SignIn => view! { <sign_in::SignInStep /> }.into_any(),
        Step::Code => view! { <code::CodeStep /> }.into_any(),
        Step::Consent => view! { <consent::ConsentStep /> }.into_any(),
        Step::Done => view! { <done::DoneStep /> }.into_any(),
        #[cfg(feature = "sharing")]
        Step::Sharing => view! { <sharing::SharingStep /> }.into_any(),
        // The consent page's build has no "Your data sharing" (its own
        // page, built with the `sharing` feature).
        #[cfg(not(feature = "sharing"))]
        Step::Sharing => view! { <start::FailurePage /> }.into_any(),
    }
}
