use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;

use clap::Args;

use super::Exit;
use pkce_harness::report::{Destination, ReportFormat, combined_exit_status};

#[derive(Debug, Args)]
pub(super) struct RunManyArgs {
    /// Target files, or folders of them (`*.yaml`, `*.yml`, in name order).
    #[arg(required = true, value_name = "TARGET")]
    targets: Vec<PathBuf>,
    /// Targets run at once (1 to 64); never two against the same issuer at a time.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    parallel: u16,
    /// Where each target's JSON report goes, as `<name>.json` (the file name without `.yaml`).
    #[arg(long, value_name = "DIR", default_value = "reports/run-many")]
    out: PathBuf,
    /// The combined report: FORMAT=PATH, FORMAT one of json, junit, markdown, sarif, gitlab;
    /// repeatable.
    #[arg(long = "report", value_parser = super::run_cmd::parse_report)]
    outputs: Vec<(ReportFormat, Destination)>,
    /// Arguments for each target's `run`, after `--`; `{name}` is replaced by the target's
    /// name (`-- --baseline baselines/{name}.yaml`).
    #[arg(last = true, value_name = "RUN ARGS")]
    run_args: Vec<String>,
}

/// One target to run: its file, its name, and the server it talks to (the issuer, or the file
/// when it names none), which no two runs share at once.
struct Job {
    file: PathBuf,
    name: String,
    server: String,
}

/// Runs `pkce-harness run` once per target, as child processes (each run as isolated as when
/// run alone), at most `--parallel` at a time and one per server, then merges their JSON
/// reports into one gate (`merge`'s exit statuses).
pub(super) fn run(args: &RunManyArgs) -> Exit {
    let jobs = match jobs(&args.targets) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("error: {}: {e}", args.out.display());
        return Exit::Usage;
    }
    let Ok(me) = std::env::current_exe() else {
        eprintln!("error: cannot find the pkce-harness executable to run each target with");
        return Exit::Usage;
    };
    let (done_tx, done_rx) = mpsc::channel::<(usize, Option<i32>, String)>();
    let mut pending: Vec<usize> = (0..jobs.len()).collect();
    let mut busy: BTreeSet<String> = BTreeSet::new();
    let mut running = 0;
    let mut codes = vec![None; jobs.len()];
    while !pending.is_empty() || running > 0 {
        while running < usize::from(args.parallel) {
            let Some(at) = next(&pending, &jobs, &busy) else {
                break;
            };
            let i = pending.remove(at);
            let job = &jobs[i];
            busy.insert(job.server.clone());
            running += 1;
            let mut cmd = Command::new(&me);
            cmd.arg("run").arg("-q").arg("--target").arg(&job.file);
            cmd.arg("--report").arg(format!(
                "json={}",
                report_path(&args.out, &job.name).display()
            ));
            cmd.args(args.run_args.iter().map(|a| a.replace("{name}", &job.name)));
            let tx = done_tx.clone();
            std::thread::spawn(move || {
                let (code, last) = match cmd.output() {
                    Ok(out) => {
                        let text = String::from_utf8_lossy(&out.stdout);
                        let last = text.lines().rev().find(|l| !l.trim().is_empty());
                        (out.status.code(), last.unwrap_or("").to_owned())
                    }
                    Err(e) => (None, format!("could not start: {e}")),
                };
                let _ = tx.send((i, code, last));
            });
        }
        let Ok((i, code, last)) = done_rx.recv() else {
            break;
        };
        running -= 1;
        busy.remove(&jobs[i].server);
        codes[i] = code;
        let shown = code.map_or_else(|| "no exit status".to_owned(), |c| format!("exit {c}"));
        println!("{:<32} {shown}: {last}", jobs[i].name);
    }
    let mut reports = Vec::new();
    let mut missing = 0;
    for job in &jobs {
        match super::read_report(&report_path(&args.out, &job.name)) {
            Ok(r) => reports.push(r),
            Err(e) => {
                missing += 1;
                eprintln!("error: {}: no report ({e})", job.name);
            }
        }
    }
    let status = combined_exit_status(&reports);
    println!(
        "{} targets, {} reports: exit {}",
        jobs.len(),
        reports.len(),
        if missing > 0 { 2 } else { status }
    );
    let written = super::merge_cmd::write_combined(&args.outputs, &reports);
    if written != Exit::Ok {
        return written;
    }
    match (missing, status) {
        (1.., _) => Exit::Usage,
        (_, 0) => Exit::Ok,
        (_, 1) => Exit::Failed,
        _ => Exit::Unreachable,
    }
}

/// Which of the pending jobs (their place in `pending`) may start now: the first whose server
/// no running job talks to.
fn next(pending: &[usize], jobs: &[Job], busy: &BTreeSet<String>) -> Option<usize> {
    pending
        .iter()
        .position(|&i| !busy.contains(&jobs[i].server))
}

fn report_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.json"))
}

/// The target files `given` names, folders expanded; two with the same name are refused (their
/// reports would overwrite each other).
fn jobs(given: &[PathBuf]) -> Result<Vec<Job>, String> {
    let mut files = Vec::new();
    for path in given {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(format!("{} holds no target file (*.yaml)", path.display()));
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let mut names = BTreeSet::new();
    let mut jobs = Vec::new();
    for file in files {
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !names.insert(name.clone()) {
            return Err(format!(
                "two target files are named {name}: their reports would overwrite each other"
            ));
        }
        // The issuer as written decides which runs may overlap; a file that does not load
        // runs alone and its own `run` says why.
        let server = pkce_harness::target::load_target(&file)
            .ok()
            .and_then(|t| t.issuer.map(|i| i.0))
            .unwrap_or_else(|| file.display().to_string());
        jobs.push(Job { file, name, server });
    }
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str, server: &str) -> Job {
        Job {
            file: PathBuf::from(format!("{name}.yaml")),
            name: name.into(),
            server: server.into(),
        }
    }

    #[test]
    fn no_two_runs_talk_to_one_server_at_once() {
        let jobs = [
            job("a", "https://one"),
            job("b", "https://one"),
            job("c", "https://two"),
        ];
        let busy: BTreeSet<String> = ["https://one".to_owned()].into();
        // a and b wait for https://one; c may start.
        assert_eq!(next(&[0, 1, 2], &jobs, &busy), Some(2));
        assert_eq!(next(&[0, 1], &jobs, &busy), None);
        assert_eq!(next(&[1], &jobs, &BTreeSet::new()), Some(0));
    }

    #[test]
    fn two_targets_of_one_name_are_refused() {
        let dir = std::env::temp_dir().join(format!("pkce-harness-names-{}", std::process::id()));
        for sub in ["x", "y"] {
            std::fs::create_dir_all(dir.join(sub)).expect("dir");
            std::fs::write(dir.join(sub).join("eu.yaml"), "format: 1\n").expect("file");
        }
        let err = jobs(&[dir.join("x"), dir.join("y")])
            .err()
            .expect("refused");
        assert!(err.contains("two target files are named eu"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
