#!/bin/sh
# Installs a released pkce-harness binary: picks the asset for this machine, checks it against
# its published SHA-256 and puts the binary in a folder. Nothing is run from the download but the
# binary itself, and nothing is installed when the checksum does not match.
#
#   curl -fsSL <the repository's URL>/releases/download/v0.1.0/install.sh \
#     | PKCE_HARNESS_REPO=<the repository's URL> PKCE_HARNESS_VERSION=v0.1.0 sh
#
# PKCE_HARNESS_REPO      the repository's URL (its releases are under /releases/download/)
# PKCE_HARNESS_VERSION   the release tag, vX.Y.Z
# PKCE_HARNESS_DIR       where the binary goes (default: $HOME/.local/bin)
# PKCE_HARNESS_ASSETS    where the assets are, instead of the repository's release (a mirror,
#                        or file:// for a test)
set -eu

fail() {
	echo "install.sh: $*" >&2
	exit 1
}

version=${PKCE_HARNESS_VERSION:?set PKCE_HARNESS_VERSION to a release tag (vX.Y.Z)}
case "$version" in
v[0-9]*.[0-9]*.[0-9]*) ;;
*) fail "PKCE_HARNESS_VERSION is $version; give a release tag such as v0.1.0" ;;
esac
if [ -n "${PKCE_HARNESS_ASSETS:-}" ]; then
	assets=$PKCE_HARNESS_ASSETS
else
	repo=${PKCE_HARNESS_REPO:?set PKCE_HARNESS_REPO to the repository URL}
	assets="${repo%/}/releases/download/$version"
fi
dir=${PKCE_HARNESS_DIR:-$HOME/.local/bin}

os=$(uname -s)
arch=$(uname -m)
case "$os/$arch" in
Linux/x86_64) target=x86_64-unknown-linux-musl ;;
Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-gnu ;;
Darwin/x86_64) target=x86_64-apple-darwin ;;
Darwin/arm64) target=aarch64-apple-darwin ;;
*) fail "no release binary for $os/$arch; build from source: cargo install --locked pkce-harness" ;;
esac

name="pkce-harness-$version-$target"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
curl -fsSL --proto '=https,file' -o "$work/$name.tar.gz" "$assets/$name.tar.gz" \
	|| fail "cannot download $assets/$name.tar.gz"
curl -fsSL --proto '=https,file' -o "$work/$name.tar.gz.sha256" "$assets/$name.tar.gz.sha256" \
	|| fail "cannot download $assets/$name.tar.gz.sha256"

expected=$(cut -d' ' -f1 <"$work/$name.tar.gz.sha256")
if command -v sha256sum >/dev/null 2>&1; then
	actual=$(sha256sum "$work/$name.tar.gz" | cut -d' ' -f1)
else
	actual=$(shasum -a 256 "$work/$name.tar.gz" | cut -d' ' -f1)
fi
[ -n "$expected" ] && [ "$expected" = "$actual" ] \
	|| fail "$name.tar.gz does not match its published SHA-256 (expected ${expected:-nothing}, got $actual); nothing installed"

tar xzf "$work/$name.tar.gz" -C "$work"
[ -f "$work/$name/pkce-harness" ] || fail "$name.tar.gz holds no $name/pkce-harness"
mkdir -p "$dir"
cp "$work/$name/pkce-harness" "$dir/pkce-harness.tmp"
chmod 755 "$dir/pkce-harness.tmp"
mv "$dir/pkce-harness.tmp" "$dir/pkce-harness"
echo "installed $("$dir/pkce-harness" --version) into $dir"
