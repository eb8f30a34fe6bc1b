# What the CLI scripts share; sourced with $work set to the script's scratch directory.

fail() { echo "FAIL: $*"; exit 1; }

# The busybox test image (FROM scratch, Debian's static busybox), built once, with no registry.
base=berth-busybox:e2e
ensure_base_image() {
  if ! docker image inspect "$base" >/dev/null 2>&1; then
    cp "$(command -v busybox)" "$work/busybox"
    printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\nRUN ["/bin/busybox", "mkdir", "-p", "/tmp", "/www"]\n' > "$work/Dockerfile"
    docker build -q -t "$base" "$work" >/dev/null
  fi
}
