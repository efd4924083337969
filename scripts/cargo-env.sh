# Sourced by the scripts: `sudo` resets PATH, so when cargo is not found, use
# the toolchain of the user who ran sudo (rustup keeps it in their home).
if ! command -v cargo >/dev/null 2>&1; then
    for home in "$(getent passwd "${SUDO_USER:-}" 2>/dev/null | cut -d: -f6)" "${HOME:-/root}"; do
        if [ -n "$home" ] && [ -x "$home/.cargo/bin/cargo" ]; then
            export PATH="$home/.cargo/bin:$PATH"
            [ -d "$home/.rustup" ] && export RUSTUP_HOME="${RUSTUP_HOME:-$home/.rustup}"
            export CARGO_HOME="${CARGO_HOME:-$home/.cargo}"
            break
        fi
    done
fi
command -v cargo >/dev/null 2>&1 || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }

# The shipped build's target: musl (`cargo build-static`) when rustup has its
# standard library and Debian's musl-gcc is here, else the host's glibc with
# `crt-static` (`cargo build-static-glibc`) — also static, but larger (see
# .cargo/config.toml). Scripts build and find the binaries through these.
static_target() {
    if [ -d "$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-musl" ] \
        && command -v musl-gcc >/dev/null 2>&1; then
        echo x86_64-unknown-linux-musl
    else
        rustc -vV | sed -n 's/^host: //p'
    fi
}

build_static() {
    case "$(static_target)" in
        *-musl) cargo build-static "$@" ;;
        *)
            echo "build_static: no musl target (rustup target add x86_64-unknown-linux-musl; apt-get install musl-tools):" \
                "building static glibc binaries instead, larger in memory" >&2
            cargo build-static-glibc "$@"
            ;;
    esac
}

# Where `build_static` leaves the shipped, static binaries.
static_bin_dir() {
    echo "${CARGO_TARGET_DIR:-$PWD/target}/$(static_target)/release"
}
