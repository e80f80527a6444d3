# Shell helpers of the benchmark scripts (bench/peers.sh, bench/cluster.sh); sourced.

# A free TCP port on 127.0.0.1 (the kernel's pick).
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_http URL: until it answers 2xx, at most 10 s.
wait_http() {
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "not up: $1" >&2
  return 1
}

# bench_setup NAME: builds (quietly), then sets `bin` (this build's pixelcraft), `pg_bin`
# (PostgreSQL's newest bin folder) and `tmp` (a fresh world-readable folder /tmp/NAME.XXXXXX).
bench_setup() {
  "$root/scripts/build.sh" >/dev/null
  bin="${BUILD_DIR:-$root/build}/app/pixelcraft"
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  tmp=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 755 "$tmp"
}
