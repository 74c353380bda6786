use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::Exit;
use pkce_harness::schema::{
    client_scenario_schema, client_schema, scenario_schema, target_reference, target_schema,
};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    Scenario,
    Target,
    /// A client scenario (`scenarios/client/`, run by `client`).
    ClientScenario,
    /// A client file (`client --target`).
    Client,
    /// The target file's reference in Markdown (every key, its type, default and meaning).
    Reference,
}

#[derive(Debug, Args)]
pub(super) struct SchemaArgs {
    /// Which file format to print (`reference`: the target file's keys as Markdown).
    #[arg(value_enum, required_unless_present = "write")]
    kind: Option<Kind>,
    /// Write the schemas into this folder (scenario.schema.json, target.schema.json,
    /// client-scenario.schema.json, client.schema.json).
    #[arg(long)]
    write: Option<PathBuf>,
}

/// Prints or writes the JSON Schemas of the scenario and target file formats, or prints the
/// target file's reference.
pub(super) fn run(args: SchemaArgs) -> Exit {
    if let Some(dir) = &args.write {
        for (name, text) in [
            ("scenario.schema.json", scenario_schema()),
            ("target.schema.json", target_schema()),
            ("client-scenario.schema.json", client_scenario_schema()),
            ("client.schema.json", client_schema()),
        ] {
            let path = dir.join(name);
            if let Err(e) = std::fs::write(&path, text) {
                eprintln!("error: {}: {e}", path.display());
                return Exit::Usage;
            }
            eprintln!("wrote {}", path.display());
        }
        return Exit::Ok;
    }
    match args.kind {
        Some(Kind::Scenario) => print!("{}", scenario_schema()),
        Some(Kind::Target) => print!("{}", target_schema()),
        Some(Kind::ClientScenario) => print!("{}", client_scenario_schema()),
        Some(Kind::Client) => print!("{}", client_schema()),
        Some(Kind::Reference) => print!("{}", target_reference()),
        None => {}
    }
    Exit::Ok
}
