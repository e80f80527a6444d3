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
