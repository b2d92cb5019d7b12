#!/usr/bin/env bash
# Makes a certificate authority for the tests, a broker certificate it signed (for localhost and 127.0.0.1 only),
# and a second, unrelated CA the tests use to see an untrusted broker refused. Kept once made.
#   scripts/test-ca.sh FOLDER
set -euo pipefail
folder=${1:?usage: scripts/test-ca.sh FOLDER}
mkdir -p "$folder"
cd "$folder"
[ -f server.pem ] && [ -f other-ca.pem ] && exit 0
quiet() { "$@" >/dev/null 2>&1; }
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 -subj "/CN=aiwf test CA"
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 3650 -subj "/CN=someone else's CA"
quiet openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
printf "subjectAltName=DNS:localhost,IP:127.0.0.1\n" >server.ext
quiet openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 3650 -extfile server.ext
# The broker drops to the rabbitmq user, which must read its certificate and key.
chmod 0644 ca.pem other-ca.pem server.pem server.key
echo "aiwf: test certificates in $folder"
