//! The command line: clap types and one file per subcommand. Only this module knows about
//! terminals, exit codes and argument syntax; it turns options into library calls.

mod baseline_cmd;
mod check_cmd;
mod client_cmd;
mod diff_cmd;
mod exit;
mod fuzz_cmd;
mod help;
mod http_args;
mod keygen_cmd;
mod list_cmd;
mod merge_cmd;
mod pkce_cmd;
mod run_cmd;
mod run_many_cmd;
mod schema_cmd;
mod selftest_cmd;
mod serve_cmd;
mod validate_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use exit::Exit;

use pkce_harness::scenario::{LoadError, Scenario, built_in, load_dir, with_added};

/// Conformance harness for the OAuth 2.0 authorization code grant with PKCE (RFC 7636).
#[derive(Debug, Parser)]
#[command(
    name = "pkce-harness",
    version,
    about,
    propagate_version = true,
    after_long_help = help::TOP
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the scenario library against a target (the embedded reference server by default).
    #[command(after_long_help = help::RUN)]
    Run(Box<run_cmd::RunArgs>),
    /// List the scenarios.
    List(list_cmd::ListArgs),
    /// Preflight a target: its file, discovery, and one normal flow per configured client.
    #[command(after_long_help = help::CHECK)]
    Check(check_cmd::CheckArgs),
    /// Check scenario and target files without running anything.
    #[command(after_long_help = help::VALIDATE)]
    Validate(validate_cmd::ValidateArgs),
    /// Run the embedded reference authorization server.
    ServeReference(serve_cmd::ServeArgs),
    /// Prove the library: pass against the clean reference server, catch every defect.
    Selftest(selftest_cmd::SelftestArgs),
    /// Judge an OAuth client: the harness is the authorization server, the client scenarios
    /// say how it misbehaves and what the client must do.
    Client(client_cmd::ClientArgs),
    /// The reference OAuth client: one login, speaking the client driver's protocol (what
    /// `client` runs without --target).
    ReferenceClient(client_cmd::ReferenceClientArgs),
    /// Draft a baseline of known deviations from a JSON report.
    Baseline(baseline_cmd::BaselineArgs),
    /// Differential fuzzing: generated inputs against a live server, judged by the oracle.
    #[command(after_long_help = help::FUZZ)]
    Fuzz(Box<fuzz_cmd::FuzzArgs>),
    /// Compare two JSON reports: new, gone, fixed, regressed and changed checks.
    Diff(diff_cmd::DiffArgs),
    /// Merge JSON reports of several targets (a CI matrix's jobs) into one gate and report.
    Merge(merge_cmd::MergeArgs),
    /// Run the library against several target files (or folders of them), a few at a time and
    /// one per server, and merge their reports into one gate.
    RunMany(run_many_cmd::RunManyArgs),
    /// Print (or write) the JSON Schemas of the scenario and target file formats.
    Schema(schema_cmd::SchemaArgs),
    /// The reference PKCE implementation: generate, derive and verify.
    Pkce(pkce_cmd::PkceArgs),
    /// Make a key pair for a private_key_jwt client: the private key to a file, the public JWK
    /// Set (to register) to stdout.
    Keygen(keygen_cmd::KeygenArgs),
    /// Print the completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write it with one page per command into a folder.
    Man {
        /// Write `pkce-harness.1` and `pkce-harness-COMMAND.1` here instead.
        #[arg(long, value_name = "DIR")]
        write: Option<PathBuf>,
    },
}

/// Parses the command line, runs the command and maps its outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage.into()
            } else {
                Exit::Ok.into()
            };
        }
    };
    let exit = match cli.command {
        Command::Pkce(args) => pkce_cmd::run(args),
        Command::Keygen(args) => keygen_cmd::run(args),
        Command::List(args) => list_cmd::run(args),
        Command::Validate(args) => validate_cmd::run(args),
        Command::Baseline(args) => baseline_cmd::run(args),
        Command::Diff(args) => diff_cmd::run(&args),
        Command::Merge(args) => merge_cmd::run(&args),
        Command::RunMany(args) => run_many_cmd::run(&args),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "pkce-harness",
                &mut script,
            );
            to_stdout(&String::from_utf8_lossy(&script))
        }
        Command::Man { write } => man(write.as_deref()),
        Command::Schema(args) => schema_cmd::run(args),
        Command::Run(args) => {
            runtime().map_or(Exit::Unreachable, |rt| rt.block_on(run_cmd::run(*args)))
        }
        Command::Fuzz(args) => {
            runtime().map_or(Exit::Unreachable, |rt| rt.block_on(fuzz_cmd::run(*args)))
        }
        Command::Check(args) => {
            runtime().map_or(Exit::Unreachable, |rt| rt.block_on(check_cmd::run(args)))
        }
        Command::ServeReference(args) => {
            runtime().map_or(Exit::Unreachable, |rt| rt.block_on(serve_cmd::run(args)))
        }
        Command::Selftest(args) => {
            runtime().map_or(Exit::Unreachable, |rt| rt.block_on(selftest_cmd::run(args)))
        }
        Command::Client(args) => {
            runtime().map_or(Exit::Unreachable, |rt| rt.block_on(client_cmd::run(args)))
        }
        Command::ReferenceClient(args) => runtime().map_or(Exit::Unreachable, |rt| {
            rt.block_on(client_cmd::reference_client(args))
        }),
    };
    exit.into()
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| eprintln!("error: cannot start the async runtime: {e}"))
        .ok()
}

/// How `list`, `check` and `validate` print: for people, or one JSON document for a script.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum OutputFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON document on stdout (warnings and errors still go to stderr too).
    Json,
}

/// Prints `value` as pretty JSON with a final newline.
fn print_json(value: &serde_json::Value) -> Exit {
    to_stdout(&format!(
        "{}\n",
        serde_json::to_string_pretty(value).unwrap_or_default()
    ))
}

/// Which scenarios a command uses: the built-in library, plus any folders added, or one
/// folder alone.
#[derive(Debug, Clone, Default, clap::Args)]
pub(super) struct LibraryArgs {
    /// Add the scenarios of this folder to the built-in library (same format and checks; an
    /// id the library already has is an error). Repeatable.
    #[arg(long = "scenarios", value_name = "DIR")]
    added: Vec<PathBuf>,
    /// Use only the scenarios of this folder, not the built-in library.
    #[arg(long, value_name = "DIR", conflicts_with = "added")]
    scenarios_only: Option<PathBuf>,
}

/// Loads the scenarios `args` name, or prints every broken file and what was wrong. A folder
/// given explicitly that holds no scenario is an error: it is a typo more often than a choice.
fn load(args: &LibraryArgs) -> Result<Vec<Scenario>, Exit> {
    let folder = |dir: &PathBuf| -> Result<Vec<Scenario>, Vec<LoadError>> {
        let found = load_dir(dir)?;
        if found.is_empty() {
            return Err(vec![LoadError::Io {
                file: dir.display().to_string(),
                message: "holds no scenario file (*.yaml)".into(),
            }]);
        }
        Ok(found)
    };
    let loaded = match &args.scenarios_only {
        Some(dir) => folder(dir),
        None => built_in().and_then(|library| {
            args.added
                .iter()
                .try_fold(library, |library, dir| with_added(library, folder(dir)?))
        }),
    };
    loaded.map_err(|errors| {
        for e in &errors {
            eprintln!("error: {e}");
        }
        eprintln!(
            "{} problem(s) with the scenarios above; nothing was run",
            errors.len()
        );
        Exit::Usage
    })
}

/// The target a command runs against: the target file, or, without one, the embedded reference
/// server with `defects` switched on (returned, to be stopped), over HTTPS with `tls`.
/// `--defect` with a target file is a usage error.
async fn target_or_reference(
    target: Option<&std::path::Path>,
    defects: std::collections::BTreeSet<pkce_harness::defect::Defect>,
    variant: pkce_harness::defect::Variant,
    tls: bool,
) -> Result<
    (
        pkce_harness::target::TargetFile,
        Option<pkce_harness::server::ReferenceServer>,
    ),
    Exit,
> {
    use pkce_harness::server::{ReferenceServer, ServerConfig};
    match (target, defects.is_empty()) {
        (Some(path), true) => load_target_file(path).map(|f| (f, None)),
        (Some(_), false) => {
            eprintln!(
                "error: --defect applies to the embedded reference server only; drop --target or --defect"
            );
            Err(Exit::Usage)
        }
        (None, _) => match ReferenceServer::start({
            let set_up = ServerConfig::for_variant(variant_for(variant, &defects), defects);
            // The FAPI and mTLS set-ups serve HTTPS whatever --tls says.
            ServerConfig {
                tls: tls || set_up.tls,
                ..set_up
            }
        })
        .await
        {
            Ok(s) => Ok((s.target_file(), Some(s))),
            Err(e) => {
                eprintln!("error: cannot start the reference server: {e}");
                Err(Exit::Unreachable)
            }
        },
    }
}

/// The reference server's set-up: the one asked for, or the one a defect needs (the most
/// demanding wins: PAR required, then assertion clients).
fn variant_for(
    asked: pkce_harness::defect::Variant,
    defects: &std::collections::BTreeSet<pkce_harness::defect::Defect>,
) -> pkce_harness::defect::Variant {
    use pkce_harness::defect::Variant;
    let rank = |v: Variant| match v {
        Variant::Secrets => 0,
        Variant::JwtClients => 1,
        Variant::Fapi2 => 2,
        Variant::Mtls => 3,
    };
    defects
        .iter()
        .map(|d| d.variant())
        .chain([asked])
        .max_by_key(|v| rank(*v))
        .unwrap_or(asked)
}

/// The set-up the `--jwt-clients`, `--fapi2` and `--mtls` flags ask for.
fn variant_of(jwt_clients: bool, fapi2: bool, mtls: bool) -> pkce_harness::defect::Variant {
    use pkce_harness::defect::Variant;
    match (jwt_clients, fapi2, mtls) {
        (_, _, true) => Variant::Mtls,
        (_, true, false) => Variant::Fapi2,
        (true, false, false) => Variant::JwtClients,
        (false, false, false) => Variant::Secrets,
    }
}

/// A seed from the operating system, for a run given none (it is printed, so the run replays).
/// Writes a command's whole output to stdout. A reader that stops early (`| head -1`) closes
/// the pipe: it has what it wanted, so that is no error (exit 0, nothing on stderr), where
/// `println!` would panic.
fn to_stdout(text: &str) -> Exit {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Exit::Ok,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Ok,
        Err(e) => {
            eprintln!("error: writing to stdout: {e}");
            Exit::Usage
        }
    }
}

/// Whether the environment variable `name` is set to something (`NO_COLOR`, `CI`).
fn env_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}

/// Whether a progress line may be redrawn in place on stderr: a terminal, not under `CI`.
fn live_on_stderr() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && !env_set("CI")
}

fn random_seed() -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_or(0, |()| u64::from_be_bytes(b))
}

/// The man pages, generated from the command line's own definition; the text after a
/// command's options (exit status, environment, examples) becomes man sections of their own.
fn man(dir: Option<&std::path::Path>) -> Exit {
    let mut cmd = <Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    cmd.build();
    let result = match dir {
        None => {
            let page = man_page(cmd);
            return match page {
                Ok(page) => to_stdout(&String::from_utf8_lossy(&page)),
                Err(e) => {
                    eprintln!("error: rendering the man page: {e}");
                    Exit::Usage
                }
            };
        }
        Some(dir) => std::fs::create_dir_all(dir).and_then(|()| write_pages(cmd, dir)),
    };
    match result {
        Ok(()) => Exit::Ok,
        Err(e) => {
            eprintln!("error: writing the man page: {e}");
            Exit::Usage
        }
    }
}

/// `cmd`'s page and, one file each, its subcommands' (`pkce-harness-run.1`).
fn write_pages(cmd: clap::Command, dir: &std::path::Path) -> std::io::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
        write_pages(sub, dir)?;
    }
    let name = clap_mangen::Man::new(cmd.clone()).get_filename();
    std::fs::write(dir.join(name), man_page(cmd)?)
}

fn man_page(cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    let extra = cmd.get_after_long_help().map(ToString::to_string);
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.after_long_help(None::<&'static str>)).render(&mut page)?;
    if let Some(text) = extra {
        page.extend_from_slice(help::to_roff(&text).as_bytes());
    }
    Ok(page)
}

/// Reads a JSON report (`run --report json=PATH`); the error names the file, line and column.
fn read_report(
    path: &std::path::Path,
) -> Result<pkce_harness::verdict::RunReport, pkce_harness::diagnostics::LoadError> {
    use pkce_harness::diagnostics::{MAX_REPORT_BYTES, located, read_text};
    let shown = path.display().to_string();
    let text = read_text(path, MAX_REPORT_BYTES)?;
    serde_json::from_str(&text).map_err(|e| {
        let message = e.to_string();
        let message = message
            .rfind(" at line ")
            .map_or(message.as_str(), |i| &message[..i]);
        located(
            &shown,
            &text,
            e.line() as u64,
            e.column() as u64,
            format!("not a pkce-harness JSON report: {message}"),
        )
    })
}

/// Refuses a selection in which a selector matches no check, naming the closest ids: a typo
/// must not run an empty or partial library and pass.
fn selection_matches(
    scenarios: &[Scenario],
    only: &[String],
    exclude: &[String],
    profile: pkce_harness::scenario::model::Profile,
) -> Result<(), Exit> {
    let selection = pkce_harness::select::Selection::new(only, exclude, profile);
    let checks = pkce_harness::engine::checks(scenarios);
    let unmatched = selection.unmatched(&checks);
    if unmatched.is_empty() {
        return Ok(());
    }
    let names: std::collections::BTreeSet<String> = checks
        .iter()
        .flat_map(|(s, id)| {
            [s.id.clone(), id.clone()]
                .into_iter()
                .chain(s.file.requirements.iter().map(ToString::to_string))
                .chain(s.file.notes.cves.iter().cloned())
        })
        .collect();
    for s in unmatched {
        let near = pkce_harness::select::closest(s.text(), names.iter().map(String::as_str));
        if near.is_empty() {
            eprintln!("error: {:?} matches no check", s.text());
        } else {
            eprintln!(
                "error: {:?} matches no check; did you mean {}?",
                s.text(),
                near.join(", ")
            );
        }
    }
    Err(Exit::Usage)
}

/// Loads a target file and prints its warnings (weak secrets) on stderr; a file that does not
/// load is a usage error, printed.
fn load_target_file(path: &std::path::Path) -> Result<pkce_harness::target::TargetFile, Exit> {
    match pkce_harness::target::load_target(path) {
        Ok(file) => {
            for w in file.warnings() {
                eprintln!("warning: {}: {w}", path.display());
            }
            Ok(file)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(Exit::Usage)
        }
    }
}

/// Deletes the clients a run registered (`register: true`), saying on standard error what
/// became of each.
async fn unregister(
    target: &pkce_harness::engine::ResolvedTarget,
    limits: pkce_harness::engine::http::Limits,
    tls: &pkce_harness::engine::http::Tls,
) {
    for note in pkce_harness::engine::unregister(target, limits, tls).await {
        eprintln!("registration: {note}");
    }
}

/// Says why the target's endpoints could not be resolved, and the exit code: a setting the user
/// must change is a usage error, no usable answer from the server is exit 3.
fn resolve_failed(e: &pkce_harness::engine::ResolveError) -> Exit {
    use pkce_harness::engine::ResolveError;
    match e {
        ResolveError::ForeignOrigin { .. } => {
            eprintln!("error: {e}");
            Exit::Usage
        }
        ResolveError::Client(_) => {
            eprintln!("error: {e}");
            Exit::Usage
        }
        ResolveError::NoMetadata { answered: true, .. } => {
            eprintln!(
                "error: {e}\n      → the server answers, but not with metadata at the issuer's well-known URLs: set metadata_url to where it publishes its metadata, or endpoints.authorization and endpoints.token"
            );
            Exit::Usage
        }
        ResolveError::MissingEndpoint { .. }
        | ResolveError::Registration { .. }
        | ResolveError::NoClients => {
            eprintln!("error: {e}");
            Exit::Usage
        }
        ResolveError::NoMetadata { .. } => {
            eprintln!(
                "error: target unreachable: {e}\n      → check issuer (or endpoints) and that the server is up"
            );
            Exit::Unreachable
        }
    }
}

/// The defects `--defect` names, or `None` after printing them all for `--defect list`.
fn defects(
    named: &[String],
) -> Result<Option<std::collections::BTreeSet<pkce_harness::defect::Defect>>, Exit> {
    use pkce_harness::defect::Defect;
    if named.iter().any(|d| d == "list") {
        for d in Defect::ALL {
            println!(
                "{:<30} [{}] {}",
                d.name(),
                d.cites().join(", "),
                d.description()
            );
        }
        return Ok(None);
    }
    let mut defects = std::collections::BTreeSet::new();
    for d in named {
        match d.parse::<Defect>() {
            Ok(d) => {
                defects.insert(d);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Err(Exit::Usage);
            }
        }
    }
    Ok(Some(defects))
}
