//! Scenarios: the YAML model ([`model`]) and the loader that finds and checks the files
//! ([`load`]). A scenario's id is its path under the scenario folder, without `.yaml`.

pub mod client;
pub mod load;
pub mod model;

pub use crate::diagnostics::LoadError;
pub use load::{Scenario, built_in, built_in_client, load_dir, parse_scenario, with_added};
pub use model::*;
