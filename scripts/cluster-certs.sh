#!/usr/bin/env bash
# Makes a dedicated cluster CA and one certificate per node for the cluster's mutual TLS
# (API.md §14): scripts/cluster-certs.sh DIR NAME [NAME...]
#   DIR/ca.pem, DIR/ca.key         the cluster CA (keep ca.key offline; it signs new nodes)
#   DIR/NAME.pem, DIR/NAME.key     a node's certificate and key (CLUSTER_TLS_CERT/KEY)
# Every node gets CLUSTER_TLS_CA=DIR/ca.pem. A certificate from this CA is full trust inside the
# cluster, so the CA serves this cluster only; certificates last DAYS (default 90): re-issue to
# rotate. An existing CA in DIR is reused, so nodes can be added later. With KEY_PASSPHRASE set,
# node keys are encrypted with it (CLUSTER_TLS_PASSPHRASE).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 DIR NAME [NAME...]" >&2
  exit 2
fi
dir=$1
shift
days=${DAYS:-90}
mkdir -p "$dir"
umask 077
if [ ! -f "$dir/ca.key" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$((days * 4))" \
    -subj "/CN=pixelcraft cluster CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
fi
for name in "$@"; do
  case $name in
    *[!A-Za-z0-9._-]* | "") echo "cluster-certs: bad node name '$name'" >&2; exit 2 ;;
  esac
  enc=(-nodes)
  if [ -n "${KEY_PASSPHRASE:-}" ]; then enc=(-passout env:KEY_PASSPHRASE); fi
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 "${enc[@]}" -subj "/CN=$name" \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' \
    "$name" > "$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days "$days" -extfile "$dir/$name.ext" -out "$dir/$name.pem" 2>/dev/null
  rm -f "$dir/$name.csr" "$dir/$name.ext"
  echo "cluster-certs: $dir/$name.pem, $dir/$name.key"
done
chmod 644 "$dir/ca.pem" "$dir"/*.pem
