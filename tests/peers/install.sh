#!/usr/bin/env bash
# Installs the real peers the interoperability tests talk to, if they are missing:
# Python `websockets` in tests/peers/.venv, Node `ws` in tests/peers/node_modules,
# Debian's Chromium, tinyproxy and openssl (for the README's certificate recipe,
# which ws-tls' tests run), and Debian's nats-server and redis-server (the brokers
# the cluster tests start and stop themselves; their services are not used). Safe to
# run again: it only adds what is absent.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import websockets' 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
fi

if [ ! -d node_modules/ws ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v tinyproxy >/dev/null 2>&1 || [ -x /usr/bin/tinyproxy ] || [ -x /usr/sbin/tinyproxy ] || missing+=(tinyproxy)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || [ -x /usr/bin/nats-server ] || missing+=(nats-server)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || [ -x /usr/sbin/redis-server ] || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
