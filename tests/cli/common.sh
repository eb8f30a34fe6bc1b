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

# Starts `berth up` or `berth server` ($1; more flags after it) with its data in $work, on a
# free port of loopback, and exports what it prints (endpoint, region, keys). On exit it is
# stopped, the containers of $cluster (when set) removed, and $work deleted.
start_berth() {
  local mode=$1
  shift
  trap stop_berth EXIT
  "$berth" "$mode" --data-dir "$work/data" --listen 127.0.0.1:0 "$@" > "$work/berth.out" 2> "$work/berth.err" &
  pid=$!
  for _ in $(seq 100); do grep -q AWS_DEFAULT_REGION "$work/berth.out" && break; sleep 0.1; done
  # shellcheck disable=SC1090
  source <(grep '^export ' "$work/berth.out")
}

stop_berth() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  if [ -n "${cluster:-}" ]; then
    ids=$(docker ps -aq --filter "label=com.amazonaws.ecs.cluster=$cluster")
    [ -n "$ids" ] && docker rm -f $ids >/dev/null || true
  fi
  rm -rf "$work"
}
