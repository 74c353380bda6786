use std::path::PathBuf;

use clap::Args;

use super::{Exit, load};

#[derive(Debug, Args)]
pub(super) struct ListArgs {
    #[command(flatten)]
    library: super::LibraryArgs,
    /// Print the coverage table (requirement -> scenarios, bug -> defects -> scenarios).
    #[arg(long)]
    coverage: bool,
    /// With --coverage: rewrite the generated part of this Markdown file in place.
    #[arg(long, requires = "coverage")]
    write: Option<PathBuf>,
    /// `json`: one document with every scenario's id, title, level, clients, requirements,
    /// severity, the defects it catches and where it comes from.
    #[arg(long, value_enum, default_value_t, conflicts_with = "coverage")]
    format: super::OutputFormat,
}

pub(super) fn run(args: ListArgs) -> Exit {
    let scenarios = match load(&args.library) {
        Ok(s) => s,
        Err(e) => return e,
    };
    if args.coverage {
        let clients = match pkce_harness::scenario::built_in_client() {
            Ok(c) => c,
            Err(errors) => {
                for e in errors {
                    eprintln!("error: {e}");
                }
                return Exit::Usage;
            }
        };
        let Some(path) = args.write else {
            return super::to_stdout(&format!(
                "{}\n",
                pkce_harness::coverage::markdown(&scenarios, &clients)
            ));
        };
        let refreshed = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                pkce_harness::coverage::refresh(&text, &scenarios, &clients)
                    .ok_or_else(|| format!("no coverage markers in {}", path.display()))
            });
        return match refreshed.and_then(|t| std::fs::write(&path, t).map_err(|e| e.to_string())) {
            Ok(()) => Exit::Ok,
            Err(e) => {
                eprintln!("error: {e}");
                Exit::Usage
            }
        };
    }
    if args.format == super::OutputFormat::Json {
        let listed: Vec<serde_json::Value> = scenarios
            .iter()
            .map(|s| {
                serde_json::json!({
                    "id": s.id,
                    "title": s.file.title,
                    "level": s.file.level.as_str(),
                    "clients": s.file.clients.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                    "requirements": s.file.requirements.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "severity": s.file.severity().as_str(),
                    "catches": s.file.catches.iter().map(|d| d.name()).collect::<Vec<_>>(),
                    "source": if s.is_built_in() { "built-in".to_owned() } else { s.path.display().to_string() },
                })
            })
            .collect();
        return super::print_json(&serde_json::json!({"count": listed.len(), "scenarios": listed}));
    }
    let mut out = String::new();
    for s in &scenarios {
        let reqs: Vec<String> = s
            .file
            .requirements
            .iter()
            .map(ToString::to_string)
            .collect();
        let clients: Vec<&str> = s.file.clients.iter().map(|c| c.as_str()).collect();
        let from = if s.is_built_in() {
            "built-in".to_owned()
        } else {
            s.path.display().to_string()
        };
        out.push_str(&format!(
            "{:<52} {:<6} {:<24} [{}] {} ({from})\n",
            s.id,
            s.file.level.as_str(),
            clients.join(","),
            reqs.join(","),
            s.file.title
        ));
    }
    let added = scenarios.iter().filter(|s| !s.is_built_in()).count();
    out.push_str(&format!(
        "{} scenarios: {} built-in, {added} from the folders given\n",
        scenarios.len(),
        scenarios.len() - added
    ));
    super::to_stdout(&out)
}
