#!/usr/bin/env bash
# Debian packages the tests and benchmarks need. Installs only what is missing.
set -euo pipefail
# dovecot-imapd and openssl: the real IMAP server (with TLS) of the email channel's tests.
# chromium: the browser the web UI tests drive through Playwright (never a downloaded one);
# fonts-noto-core: system glyphs for Persian (Noto Sans Arabic), Russian and Romanian pages.
packages=(wrk dovecot-imapd openssl chromium fonts-noto-core)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
