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

# Where `cargo build-static` (.cargo/config.toml) leaves the shipped, static binaries.
static_bin_dir() {
    echo "${CARGO_TARGET_DIR:-$PWD/target}/$(rustc -vV | sed -n 's/^host: //p')/release"
}
