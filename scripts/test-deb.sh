#!/usr/bin/env bash
# Installs the .deb with dpkg, checks what it put where, runs an installed
# plugin, removes it with dpkg and checks that nothing is left; Debian's
# plugins in /usr/lib/cni must be the same bytes throughout. Root only; CI runs
# it on a fresh machine after scripts/package-deb.sh:
#
#   sudo scripts/test-deb.sh [--podman] [DEB]   # default: the newest target/debian/cni-rs-plugins_*.deb
#
#   --podman  while installed, Podman also runs its default chain on the
#             installed /opt/cni/bin alone (conformance/tests/podman_cni.rs
#             with CNI_RS_BIN_DIR=/opt/cni/bin; cargo builds that test first)
set -euo pipefail
cd "$(dirname "$0")/.."
podman=0
if [ "${1:-}" = --podman ]; then podman=1; shift; fi
PKG=cni-rs-plugins
. scripts/shipped-plugins.sh
PLUGINS="$SHIPPED_PLUGINS"
fail() { echo "test-deb: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (dpkg -i)"
deb=${1:-$(ls -t "${CARGO_TARGET_DIR:-$PWD/target}"/debian/${PKG}_*.deb 2>/dev/null | head -n 1)}
[ -f "$deb" ] || fail "no .deb: run scripts/package-deb.sh first"
# Never take over or remove what this machine already has.
dpkg -s "$PKG" >/dev/null 2>&1 && fail "$PKG is already installed here"
for p in $PLUGINS; do [ ! -e "/opt/cni/bin/$p" ] || fail "/opt/cni/bin/$p exists already"; done
[ ! -e /usr/bin/cnitool ] || fail "/usr/bin/cnitool exists already"

# What must not change: Debian's plugins, and (after removal) /opt and /usr/bin.
snapshot() { find /usr/lib/cni -type f -exec sha256sum {} + 2>/dev/null | sort; }
tree() { find /opt /usr/bin /usr/share/doc 2>/dev/null | sort; }
before_cni=$(snapshot)
before_tree=$(tree)
trap 'dpkg -s "$PKG" >/dev/null 2>&1 && dpkg -r "$PKG" >/dev/null 2>&1 || true' EXIT

dpkg -i "$deb" >/dev/null
[ "$(dpkg-query -W -f='${Status}' "$PKG")" = "install ok installed" ] || fail "dpkg says not installed"
version=$(dpkg-deb -f "$deb" Version)
listed=$(dpkg -L "$PKG")
for p in $PLUGINS; do
    f=/opt/cni/bin/$p
    [ -x "$f" ] && [ -s "$f" ] || fail "$f missing or not executable"
    grep -qx "$f" <<<"$listed" || fail "$f not listed by dpkg -L"
    case "$(file -b "$f")" in *"static"*) ;; *) fail "$f is not static: $(file -b "$f")" ;; esac
done
[ -x /usr/bin/cnitool ] || fail "/usr/bin/cnitool missing"
if grep -q '^/usr/lib/cni' <<<"$listed"; then fail "the package ships files in /usr/lib/cni"; fi
[ "$(snapshot)" = "$before_cni" ] || fail "/usr/lib/cni changed on install"

# An installed plugin answers VERSION and names its version; cnitool runs.
out=$(env -i CNI_COMMAND=VERSION /opt/cni/bin/bridge <<<'{"cniVersion":"1.0.0"}')
grep -q '"supportedVersions"' <<<"$out" || fail "bridge VERSION: $out"
about=$(env -i /opt/cni/bin/bridge 2>&1 || true)
grep -q "v${version%%-*}" <<<"$about" || fail "bridge about: $about (package $version)"
/usr/bin/cnitool --help >/dev/null || fail "cnitool --help"

if [ "$podman" = 1 ]; then
    . scripts/cargo-env.sh
    CNI_RS_BIN_DIR=/opt/cni/bin CNI_TEST_REQUIRE_PRIVILEGED=1 cargo test --workspace --test podman_cni \
        podman_runs_its_default_chain_on_our_binaries_only >&2 || fail "Podman on the installed plugins"
fi

dpkg -r "$PKG" >/dev/null
case "$(dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null || true)" in *" installed") fail "still installed after dpkg -r" ;; esac
[ "$(tree)" = "$before_tree" ] || fail "dpkg -r left files behind: $(diff <(echo "$before_tree") <(tree))"
[ "$(snapshot)" = "$before_cni" ] || fail "/usr/lib/cni changed on removal"
echo "test-deb: $deb ($version) installs $PLUGINS into /opt/cni/bin and cnitool into /usr/bin, runs, and removes cleanly; /usr/lib/cni untouched"
