#!/bin/sh
# Installs the Debian packages vexil builds against, only those missing.
# Used by `make deps` (and so by `make test` and `make demo`) on a fresh machine.
set -eu
pkgs="gcc make pkg-config openssl libcjson-dev libcurl4-openssl-dev libssl-dev libyaml-dev python3-dev libsnappy-dev zlib1g-dev libzstd-dev librdkafka-dev"
# The Kafka tests' and benchmark's broker (tests/servers/kafka_broker.py): Java and Maven.
pkgs="$pkgs openjdk-17-jre-headless maven"
[ "${VX_WITH_CLANG:-0}" = 1 ] && pkgs="$pkgs clang libclang-rt-14-dev"
# Debian's own python3 needs python3-venv for `python3 -m venv` (the tests' venv).
python3 -c "import ensurepip" 2>/dev/null || pkgs="$pkgs python3-venv"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
