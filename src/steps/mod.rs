//! One module per step of the flow.

pub mod code;
pub mod consent;
pub mod done;
pub mod sign_in;
pub mod start;
