#!/bin/sh
# The action's run step: runs the library against the target with every CI report, writes the
# Markdown summary to the job summary, and hands the exit status on as an output instead of
# failing here, so the SARIF upload after it runs whatever the verdict; the action's last step
# ends the job with that status.
#
# Inputs (the action's, as environment): INPUT_TARGET (empty: the embedded reference server),
# INPUT_BASELINE, INPUT_PROFILE, INPUT_ARGS (more arguments for `run`, split on spaces),
# INPUT_REPORTS (the folder for the reports; default reports/pkce-harness).
# Writes: $GITHUB_STEP_SUMMARY, and exit-code, sarif, reports to $GITHUB_OUTPUT.
set -u

bin=${PKCE_HARNESS_BIN:-pkce-harness}
reports=${INPUT_REPORTS:-reports/pkce-harness}
mkdir -p "$reports" || exit 2

set -- run \
	--report "junit=$reports/junit.xml" \
	--report "markdown=$reports/summary.md" \
	--report "sarif=$reports/results.sarif" \
	--report "json=$reports/report.json" \
	--report "html=$reports/report.html"
[ -n "${INPUT_TARGET:-}" ] && set -- "$@" --target "$INPUT_TARGET"
[ -n "${INPUT_BASELINE:-}" ] && set -- "$@" --baseline "$INPUT_BASELINE"
[ -n "${INPUT_PROFILE:-}" ] && set -- "$@" --profile "$INPUT_PROFILE"
# shellcheck disable=SC2086 # INPUT_ARGS is split on purpose: one string of flags.
set -- "$@" ${INPUT_ARGS:-}

"$bin" "$@"
status=$?

if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$reports/summary.md" ]; then
	cat "$reports/summary.md" >>"$GITHUB_STEP_SUMMARY"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
	{
		echo "exit-code=$status"
		echo "reports=$reports"
		[ -f "$reports/results.sarif" ] && echo "sarif=$reports/results.sarif"
	} >>"$GITHUB_OUTPUT"
fi
echo "pkce-harness exited $status"
exit 0
