#!/usr/bin/env bash
# Install a released tagsync binary for this machine, its SHA-256 checked against the
# release's SHA256SUMS, in seconds; build it from source with cargo only where the release
# has no binary for this machine (or when asked). The GitHub Action (action.yml at the
# repository root) runs this script; any other CI or a laptop can run it too.
#
# A release vX.Y.Z holds, under $TAGSYNC_RELEASES/vX.Y.Z/ (made by
# .github/workflows/release.yml):
#   tagsync-X.Y.Z-<target>.tar.gz   one directory tagsync-X.Y.Z-<target>/ with the binary
#                                   `tagsync` and the README
#   SHA256SUMS                      `sha256sum` lines for every archive
# with <target> one of x86_64-unknown-linux-musl, aarch64-unknown-linux-musl (static),
# x86_64-apple-darwin, aarch64-apple-darwin.
#
# Environment:
#   TAGSYNC_VERSION      the release: 0.1.0 or v0.1.0 (default: the version in
#                        $TAGSYNC_SOURCE/Cargo.toml; required without TAGSYNC_SOURCE)
#   TAGSYNC_REPOSITORY   owner/name of tagsync on GitHub (default: taken from TAGSYNC_SOURCE
#                        when it is an action's checkout, .../_actions/OWNER/NAME/REF)
#   TAGSYNC_RELEASES     where the releases are (default:
#                        https://github.com/$TAGSYNC_REPOSITORY/releases/download)
#   TAGSYNC_ROOT         the install root: the binary goes to $TAGSYNC_ROOT/bin/tagsync
#                        (default: $RUNNER_TOOL_CACHE/tagsync/VERSION/TARGET on a GitHub
#                        runner, else ~/.local)
#   TAGSYNC_FROM_SOURCE  auto (default): the release binary; build from source only where
#                        the release has none for this machine. always: build from
#                        source. never: fail rather than build.
#   TAGSYNC_SOURCE       a checkout of tagsync at that version to build from (the action
#                        passes its own); otherwise the build is
#                        `cargo install --git $TAGSYNC_GIT --tag vVERSION`
#   TAGSYNC_GIT          the git URL for that (default: https://github.com/$TAGSYNC_REPOSITORY)
#
# Prints `tagsync=<downloaded|built|cached> VERSION TARGET` and the binary's path; on a
# GitHub runner also appends the bin directory to $GITHUB_PATH and writes the outputs
# `path`, `version`, `how` to $GITHUB_OUTPUT. Exit 1 when a setting is missing, a
# download fails, the checksum does not match (nothing is installed then), or the build
# fails.
set -euo pipefail

die() {
  echo "tagsync install: error: $*" >&2
  exit 1
}
note() { echo "tagsync install: $*" >&2; }

source_dir=${TAGSYNC_SOURCE:-}
version=${TAGSYNC_VERSION:-}
if [ -z "$version" ] && [ -n "$source_dir" ]; then
  # The first `version = "…"` of Cargo.toml is the package's (it opens with [package]).
  version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$source_dir/Cargo.toml" 2>/dev/null | head -n 1)
fi
version=${version#v}
[ -n "$version" ] || die "set TAGSYNC_VERSION to the tagsync release to install (e.g. 0.1.0)"
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]] ||
  die "TAGSYNC_VERSION: \`$version\` is not a release version like 0.1.0"
tag=v$version

repo=${TAGSYNC_REPOSITORY:-}
if [ -z "$repo" ] && [[ $source_dir =~ /_actions/([^/]+)/([^/]+)/[^/]+/?$ ]]; then
  repo=${BASH_REMATCH[1]}/${BASH_REMATCH[2]}
fi

mode=${TAGSYNC_FROM_SOURCE:-auto}
case $mode in
  auto | always | never) ;;
  *) die "TAGSYNC_FROM_SOURCE: \`$mode\` is none of auto, always, never" ;;
esac

# The release's name for this machine; empty where there is no binary for it.
os=$(uname -s)
arch=$(uname -m)
case "$os/$arch" in
  Linux/x86_64 | Linux/amd64) target=x86_64-unknown-linux-musl ;;
  Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-musl ;;
  Darwin/x86_64) target=x86_64-apple-darwin ;;
  Darwin/arm64 | Darwin/aarch64) target=aarch64-apple-darwin ;;
  *) target= ;;
esac

if [ -n "${TAGSYNC_ROOT:-}" ]; then
  root=$TAGSYNC_ROOT
elif [ -n "${RUNNER_TOOL_CACHE:-}" ]; then
  root=$RUNNER_TOOL_CACHE/tagsync/$version/${target:-source}
else
  root=$HOME/.local
fi
bin=$root/bin/tagsync

finish() { # HOW
  echo "tagsync=$1 $version ${target:-source}"
  echo "$bin"
  if [ -n "${GITHUB_PATH:-}" ]; then echo "$root/bin" >>"$GITHUB_PATH"; fi
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf 'path=%s\nversion=%s\nhow=%s\n' "$bin" "$version" "$1" >>"$GITHUB_OUTPUT"
  fi
  exit 0
}

build_from_source() { # WHY
  note "$1: building tagsync $version from source with cargo (a few minutes)"
  command -v cargo >/dev/null ||
    die "$1, and cargo is not installed to build it from source (https://rustup.rs)"
  local from
  if [ -n "$source_dir" ]; then
    from=(--path "$source_dir")
  else
    local git=${TAGSYNC_GIT:-}
    if [ -z "$git" ]; then
      [ -n "$repo" ] || die "set TAGSYNC_GIT (or TAGSYNC_REPOSITORY) to build tagsync from source"
      git=https://github.com/$repo
    fi
    from=(--git "$git" --tag "$tag" tagsync)
  fi
  cargo install --locked --force --root "$root" "${from[@]}"
  finish built
}

# A binary of this version already here (a self-hosted runner's tool cache): keep it.
if [ "$mode" != always ] && [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null)" = "tagsync $version" ]; then
  finish cached
fi

if [ "$mode" = always ]; then
  build_from_source "asked to build from source"
fi
if [ -z "$target" ]; then
  [ "$mode" = never ] && die "the release has no binary for $os $arch (and TAGSYNC_FROM_SOURCE=never)"
  build_from_source "no release binary for $os $arch"
fi

if [ -n "${TAGSYNC_RELEASES:-}" ]; then
  base=${TAGSYNC_RELEASES%/}
else
  [ -n "$repo" ] || die "set TAGSYNC_REPOSITORY (owner/name of tagsync on GitHub) or TAGSYNC_RELEASES"
  base=https://github.com/$repo/releases/download
fi
archive=tagsync-$version-$target.tar.gz

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# curl's exit code: 22 (HTTP 404 and the like) or 37 (no such file://): not there.
fetch() { # URL FILE
  local rc=0
  curl -fsSL --retry 3 --connect-timeout 20 -o "$2" "$1" || rc=$?
  return "$rc"
}

rc=0
fetch "$base/$tag/SHA256SUMS" "$tmp/SHA256SUMS" || rc=$?
if [ "$rc" -eq 22 ] || [ "$rc" -eq 37 ]; then
  [ "$mode" = never ] && die "no release $tag at $base (no SHA256SUMS) and TAGSYNC_FROM_SOURCE=never"
  build_from_source "no release $tag at $base (no SHA256SUMS)"
elif [ "$rc" -ne 0 ]; then
  die "could not download $base/$tag/SHA256SUMS (curl exit $rc)"
fi

# The line for our archive: `HASH  NAME` or `HASH *NAME` (binary mode).
expected=$(awk -v name="$archive" '$2 == name || $2 == "*" name { print tolower($1); exit }' "$tmp/SHA256SUMS")
if [ -z "$expected" ]; then
  [ "$mode" = never ] && die "release $tag has no $archive (and TAGSYNC_FROM_SOURCE=never)"
  build_from_source "release $tag has no $archive"
fi
[[ $expected =~ ^[0-9a-f]{64}$ ]] || die "SHA256SUMS of $tag: \`$expected\` is not a SHA-256 for $archive"

rc=0
fetch "$base/$tag/$archive" "$tmp/$archive" || rc=$?
[ "$rc" -eq 0 ] || die "could not download $base/$tag/$archive (curl exit $rc)"

if command -v sha256sum >/dev/null; then
  actual=$(sha256sum "$tmp/$archive" | awk '{ print $1 }')
else
  actual=$(shasum -a 256 "$tmp/$archive" | awk '{ print $1 }')
fi
if [ "$actual" != "$expected" ]; then
  die "checksum mismatch for $archive: SHA256SUMS says $expected, the download is $actual; nothing was installed"
fi

mkdir "$tmp/unpacked"
tar -xzf "$tmp/$archive" -C "$tmp/unpacked"
new=$tmp/unpacked/tagsync-$version-$target/tagsync
[ -f "$new" ] || die "$archive holds no tagsync-$version-$target/tagsync; nothing was installed"
chmod 755 "$new"
said=$("$new" --version 2>&1) || die "the binary of $archive does not run: $said; nothing was installed"
[ "$said" = "tagsync $version" ] ||
  die "the binary of $archive says \`$said\`, not \`tagsync $version\`; nothing was installed"

# Into place in one rename: a job never sees half a binary.
mkdir -p "$root/bin"
cp "$new" "$root/bin/.tagsync.new.$$"
mv -f "$root/bin/.tagsync.new.$$" "$bin"
finish downloaded
