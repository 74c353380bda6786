use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::defect::Severity;
use crate::requirements::{bug_by_id, requirement};
use crate::verdict::{Exchange, RunReport, ScenarioResult, Standing};

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are never text a reader needs; shown as their code, they cannot
            // reach a terminal that prints the file.
            c if c.is_control() && !matches!(c, '\n' | '\t') => {
                out.push_str(&c.escape_unicode().to_string());
            }
            c => out.push(c),
        }
    }
    out
}

/// The standings a report shows, most urgent first (the columns of the other formats).
fn standings(report: &RunReport) -> Vec<Standing> {
    let shown = super::columns(report);
    Standing::ALL
        .into_iter()
        .filter(|s| shown.contains(s))
        .collect()
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:16px 24px}header h1{margin:0 0 4px;font-size:20px}
main{padding:16px 24px;max-width:1200px}.warn-banner{background:#fff3cd;border:1px solid #e0c060;padding:8px 12px;margin:12px 0}
table{border-collapse:collapse;background:#fff;margin:8px 0 16px}td,th{border:1px solid #d0d7de;padding:4px 10px;text-align:right}
td:first-child,th:first-child{text-align:left}.v{display:inline-block;min-width:44px;text-align:center;border-radius:4px;padding:0 6px;font-weight:600;font-size:12px;color:#fff}
.v-pass{background:#1a7f37}.v-fail,.v-stale{background:#cf222e}.v-known,.v-below{background:#1b7c83}.v-error{background:#8250df}.v-warn{background:#bf8700}.v-info{background:#0969da}.v-skip{background:#6e7781}
.filters label{margin-right:14px;cursor:pointer}details.s{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:6px 0;padding:6px 10px}
details.s>summary{cursor:pointer}details.s .id{font-family:ui-monospace,monospace;margin:0 6px}.reason{margin:6px 0;font-weight:600}
.req{margin:2px 0;color:#424a53}pre{background:#f6f8fa;border:1px solid #d0d7de;padding:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-all;margin:4px 0}
.ex{border-top:1px dashed #d0d7de;padding-top:4px;margin-top:6px}.muted{color:#6e7781}\
.login ol{margin:2px 0;padding-left:22px;font-size:12px}.shot{max-width:100%;border:1px solid #d0d7de;margin-top:4px}\
.findings{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;margin:8px 0 16px}.findings h2{font-size:16px;margin:4px 0 8px}\
.sev{display:inline-block;margin:0 12px 6px 0;font-weight:600}.sev b{font-size:20px;margin-right:4px}.sev-high b{color:#cf222e}.sev-medium b{color:#bf8700}.sev-low b{color:#0969da}\
.findings ol{margin:4px 0;padding-left:22px}.findings li{margin:3px 0}.findings a{font-family:ui-monospace,monospace}\
.chart td:last-child{width:60%;text-align:left}.bar{display:flex;height:12px;border-radius:3px;overflow:hidden;background:#eaeef2}.bar span{display:block;height:100%}";

const SCRIPT: &str = "document.querySelectorAll('.filters input').forEach(function(box){box.addEventListener('change',function(){document.querySelectorAll('details.s[data-verdict=\"'+box.value+'\"]').forEach(function(d){d.hidden=!box.checked;});});});\
function openHash(){var d=location.hash&&document.getElementById(location.hash.slice(1));if(d&&d.tagName==='DETAILS'){d.hidden=false;d.open=true;}}window.addEventListener('hashchange',openHash);openHash();";

/// The single-file HTML report of a run: no external assets, so it can be attached to an audit
/// or a CI artifact and opened anywhere. Overview by specification, filters by verdict, and per
/// scenario its requirements' text, reason and redacted exchanges. What a reader came for comes
/// first: the findings by severity, a chart of verdicts by specification, and the list of unmet
/// checks with their reasons, each linking to its evidence (collapsed until asked for).
pub fn html_report(report: &RunReport) -> String {
    let s = &report.summary;
    let mut h = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(
        h,
        "<meta name=\"viewport\" content=\"width=device-width\"><title>pkce-harness: {}</title>\n<style>{STYLE}</style></head><body>\n",
        esc(&report.target)
    );
    let _ = write!(
        h,
        "<header><h1>pkce-harness report</h1><div>Target <b>{}</b> ({}) · profile <b>{}</b> · seed <b>{}</b> · pkce-harness {} · started {} · {:.1} s</div></header>\n<main>",
        esc(&report.target),
        esc(&report.issuer),
        report.profile.as_str(),
        report.seed,
        esc(&report.harness),
        esc(&report.started),
        report.duration_ms as f64 / 1000.0
    );
    if report.interrupted {
        h.push_str("<div class=\"warn-banner\">The run was <b>interrupted</b>: only the checks that finished are shown.</div>");
    }
    if report.insecure {
        h.push_str("<div class=\"warn-banner\">TLS certificates were <b>not verified</b> (<code>--insecure</code>).</div>");
    }
    if let Some(b) = &report.baseline {
        let _ = write!(
            h,
            "<p>Baseline for <b>{}</b>: {} known deviations seen, <b>{} new</b>, <b>{} stale</b>: the gate {}.</p>",
            esc(&b.server),
            b.known,
            b.new,
            b.stale,
            if report.exit_status() == 1 {
                "fails"
            } else {
                "holds"
            }
        );
    }
    let _ = write!(
        h,
        "<p>{}: {} passed, <b>{} failed</b>, {} warned, {} info, {} skipped, {} errors{}. Replay with <code>--seed {}</code>.</p>",
        crate::report::checks(s.total),
        s.passed,
        s.failed,
        s.warned,
        s.info,
        s.skipped,
        s.errors,
        if report.baseline.is_some() {
            format!(", {} known", s.known)
        } else {
            String::new()
        },
        report.seed
    );
    findings(&mut h, report);
    overview(&mut h, report);
    h.push_str("<div class=\"filters\">Show: ");
    let shown = standings(report);
    for v in &shown {
        let count = report.results.iter().filter(|r| r.standing() == *v).count();
        let _ = write!(
            h,
            "<label><input type=\"checkbox\" value=\"{0}\" checked> <span class=\"v v-{0}\">{0}</span> {count}</label>",
            v.as_str()
        );
    }
    h.push_str("</div>\n");
    let mut ordered: Vec<&ScenarioResult> = report.results.iter().collect();
    ordered.sort_by_key(|r| (shown.iter().position(|v| *v == r.standing()), r.id.clone()));
    for r in ordered {
        scenario(&mut h, r);
    }
    let _ = writeln!(h, "</main><script>{SCRIPT}</script></body></html>");
    h
}

/// The anchor of a check's details.
fn anchor(id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("c-{safe}")
}

/// Whether a result is a finding the list at the top names: it fails the gate, is a warning,
/// a note, a known deviation, or could not be judged.
fn is_finding(s: Standing) -> bool {
    !matches!(s, Standing::Pass | Standing::Skip)
}

/// The findings first: counts by severity, verdicts by specification as bars, and each unmet
/// check with its reason, most urgent first.
fn findings(h: &mut String, report: &RunReport) {
    let shown = standings(report);
    let mut listed: Vec<&ScenarioResult> = report
        .results
        .iter()
        .filter(|r| is_finding(r.standing()))
        .collect();
    h.push_str("<section class=\"findings\"><h2>Findings</h2>");
    if listed.is_empty() {
        h.push_str("<p>None: every check passed or was skipped with its reason.</p>");
    } else {
        for severity in [Severity::High, Severity::Medium, Severity::Low] {
            let n = listed.iter().filter(|r| r.severity == severity).count();
            let _ = write!(
                h,
                "<span class=\"sev sev-{0}\"><b>{n}</b>{0}</span>",
                severity.as_str()
            );
        }
    }
    let by_spec = counts_by_spec(report, &shown);
    h.push_str(
        "<table class=\"chart\"><tr><th>specification</th><th>checks</th><th>verdicts</th></tr>",
    );
    for (spec, counts) in &by_spec {
        let total: usize = counts.iter().sum();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{total}</td><td><div class=\"bar\">",
            esc(spec)
        );
        for (v, n) in shown.iter().zip(counts) {
            if *n > 0 {
                let _ = write!(
                    h,
                    "<span class=\"v-{0}\" style=\"width:{1:.1}%\" title=\"{0}: {n}\"></span>",
                    v.as_str(),
                    *n as f64 * 100.0 / total.max(1) as f64
                );
            }
        }
        h.push_str("</div></td></tr>");
    }
    h.push_str("</table>");
    listed.sort_by_key(|r| {
        (
            shown.iter().position(|v| *v == r.standing()),
            std::cmp::Reverse(r.severity),
            r.id.clone(),
        )
    });
    if !listed.is_empty() {
        h.push_str("<ol>");
        for r in listed {
            let v = r.standing().as_str();
            let _ = write!(
                h,
                "<li><span class=\"v v-{v}\">{v}</span> {} <a href=\"#{}\">{}</a>: {}</li>",
                r.severity.as_str(),
                anchor(&r.id),
                esc(&r.id),
                esc(&r.reason_shown())
            );
        }
        h.push_str("</ol>");
    }
    h.push_str("</section>\n");
}

/// Per specification folder, how many results have each of `shown`'s standings.
fn counts_by_spec<'r>(report: &'r RunReport, shown: &[Standing]) -> BTreeMap<&'r str, Vec<usize>> {
    let mut by_spec: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for r in &report.results {
        if let Some(i) = shown.iter().position(|v| *v == r.standing()) {
            by_spec
                .entry(r.spec.as_str())
                .or_insert_with(|| vec![0; shown.len()])[i] += 1;
        }
    }
    by_spec
}

fn overview(h: &mut String, report: &RunReport) {
    let shown = standings(report);
    let by_spec = counts_by_spec(report, &shown);
    h.push_str("<table><tr><th>specification</th>");
    for v in &shown {
        let _ = write!(h, "<th><span class=\"v v-{0}\">{0}</span></th>", v.as_str());
    }
    h.push_str("</tr>");
    for (spec, counts) in by_spec {
        let _ = write!(h, "<tr><td>{}</td>", esc(spec));
        for n in counts {
            let _ = write!(
                h,
                "<td>{}</td>",
                if n == 0 { String::new() } else { n.to_string() }
            );
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

fn scenario(h: &mut String, r: &ScenarioResult) {
    let v = r.standing().as_str();
    // Collapsed: the findings list at the top says what each is and links here.
    let _ = write!(
        h,
        "<details class=\"s\" id=\"{}\" data-verdict=\"{v}\"><summary><span class=\"v v-{v}\">{v}</span><span class=\"id\">{}</span>{}</summary>",
        anchor(&r.id),
        esc(&r.id),
        esc(&r.title)
    );
    let reason = r.reason_shown();
    if !reason.is_empty() {
        let _ = write!(h, "<div class=\"reason\">{}</div>", esc(&reason));
    }
    let _ = write!(
        h,
        "<div class=\"muted\">level {} · severity {} · client {} · profile {} · {} ms</div>",
        r.level.as_str(),
        r.severity.as_str(),
        r.client.as_str(),
        r.profile.as_str(),
        r.duration_ms
    );
    for id in &r.requirements {
        let text = match (requirement(id), bug_by_id(id)) {
            (Some(req), _) => format!("{}: {}", req.source, req.summary),
            (_, Some(bug)) => format!("{} ({}): {}", bug.ident, bug.product, bug.summary),
            _ => String::new(),
        };
        let _ = write!(
            h,
            "<div class=\"req\"><b>{}</b> {}</div>",
            esc(id),
            esc(&text)
        );
    }
    for g in &r.guards {
        let _ = write!(h, "<div class=\"muted\">guard: {}</div>", esc(g));
    }
    if !r.login.is_empty() {
        h.push_str("<div class=\"login\"><b>login</b><ol>");
        for step in &r.login {
            let _ = write!(h, "<li>{}</li>", esc(step));
        }
        h.push_str("</ol></div>");
    }
    if let Some(png) = &r.screenshot {
        let _ = write!(
            h,
            "<img class=\"shot\" alt=\"the page the browser login stopped at, typed values cleared\" src=\"data:image/png;base64,{}\">",
            esc(png)
        );
    }
    for e in &r.evidence {
        exchange(h, e);
    }
    h.push_str("</details>\n");
}

fn exchange(h: &mut String, e: &Exchange) {
    let status = e
        .status
        .map_or_else(|| "no response".to_owned(), |s| s.to_string());
    let _ = write!(
        h,
        "<div class=\"ex\"><b>{}</b> {} <code>{}</code> → <b>{}</b>",
        esc(&e.step),
        esc(&e.method),
        esc(&e.url),
        esc(&status)
    );
    if let Some(err) = &e.error {
        let _ = write!(h, " <span class=\"muted\">{}</span>", esc(err));
    }
    let block = |h: &mut String, headers: &[(String, String)], body: &Option<String>| {
        if headers.is_empty() && body.is_none() {
            return;
        }
        let mut text = String::new();
        for (k, v) in headers {
            let _ = writeln!(text, "{k}: {v}");
        }
        if let Some(b) = body {
            if !headers.is_empty() {
                text.push('\n');
            }
            text.push_str(b);
        }
        let _ = write!(h, "<pre>{}</pre>", esc(&text));
    };
    block(h, &e.request_headers, &e.request_body);
    block(h, &e.response_headers, &e.response_body);
    h.push_str("</div>\n");
}
