#!/usr/bin/env bash
# Installs the CNI plugins and cnitool in one command:
#
#   sudo scripts/install.sh [--prefix DIR] [--cni-bin-dir DIR] [--from DIR] [--plugins "a b"]
#
#   --cni-bin-dir DIR  where the plugins go           [default: /opt/cni/bin]
#   --prefix DIR       cnitool goes to DIR/bin        [default: /usr/local]
#   --from DIR         install binaries already built in DIR instead of
#                      building the static ones (`cargo build-static`)
#   --plugins "LIST"   only these plugins             [default: all]
#
# Each file is written under a temporary name in its directory and renamed
# into place, so a runtime exec'ing a plugin meanwhile never sees half a
# binary. /opt/cni/bin is what containerd, CRI-O and Podman look in by
# default; Debian's own plugins in /usr/lib/cni are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/shipped-plugins.sh
ALL_PLUGINS="$SHIPPED_PLUGINS"
cni_bin_dir=/opt/cni/bin
prefix=/usr/local
from=""
plugins="$ALL_PLUGINS"
usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --cni-bin-dir) cni_bin_dir="${2:?}"; shift 2 ;;
        --prefix) prefix="${2:?}"; shift 2 ;;
        --from) from="${2:?}"; shift 2 ;;
        --plugins) plugins="${2:?}"; shift 2 ;;
        -h | --help) usage ;;
        *) echo "install: unknown argument $1" >&2; usage ;;
    esac
done

if [ -z "$from" ]; then
    . scripts/cargo-env.sh
    build_static
    from=$(static_bin_dir)
fi

# Copies $1 to directory $2 as $3: temporary name, then an atomic rename.
install_one() {
    local src=$1 dir=$2 name=$3
    [ -f "$src" ] || { echo "install: $src is missing (build it, or choose --plugins)" >&2; exit 1; }
    local tmp
    tmp=$(mktemp "$dir/.$name.XXXXXX")
    cp "$src" "$tmp"
    chmod 0755 "$tmp"
    mv -f "$tmp" "$dir/$name"
}

mkdir -p "$cni_bin_dir" "$prefix/bin"
for p in $plugins; do
    case " $ALL_PLUGINS " in *" $p "*) ;; *) echo "install: unknown plugin $p" >&2; exit 2 ;; esac
    install_one "$from/$p" "$cni_bin_dir" "$p"
done
install_one "$from/cnitool" "$prefix/bin" cnitool
echo "install: plugins ($plugins) in $cni_bin_dir, cnitool in $prefix/bin"
