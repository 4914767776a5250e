#!/usr/bin/env bash
# Installs what `make test`, `make reproduce` and `make notebook` need, once:
# Debian's Jupyter packages, the GoNB kernel and goimports pinned in go.mod,
# and a kernel spec under .jupyter/ whose environment does not depend on the
# calling shell. Safe to re-run: each step is skipped when already done.
# Every failure ends with what failed and what to run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

fail() {
	echo "setup: FAILED: $1" >&2
	echo "setup: to retry by hand: $2" >&2
	exit 1
}

apt_pkgs=(jupyter-notebook jupyter-nbconvert python3-nbclient python3-ipykernel)
# OpenBLAS is optional: with it the eos package multiplies matrices through
# gonum's cgo binding (see BENCHMARKS.md); without it gonum's pure-Go BLAS runs.
opt_pkgs=(libopenblas-dev)

missing=()
for p in "${apt_pkgs[@]}" "${opt_pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	command -v apt-get >/dev/null || fail "apt-get not found; this set-up expects Debian 12" \
		"install ${missing[*]} with your package manager"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	echo "setup: installing Debian packages: ${missing[*]}"
	$sudo apt-get update -q >/tmp/eoskit-apt-update.log 2>&1 ||
		fail "apt-get update (log: /tmp/eoskit-apt-update.log)" "$sudo apt-get update"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" </dev/null >/tmp/eoskit-apt-install.log 2>&1 ||
		fail "apt-get install ${missing[*]} (log: /tmp/eoskit-apt-install.log; tail below)
$(tail -n 5 /tmp/eoskit-apt-install.log)" \
			"DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y ${missing[*]}"
fi
[ -x /usr/bin/jupyter ] || fail "jupyter not found at /usr/bin/jupyter after installing ${apt_pkgs[*]}" \
	"apt-get install --reinstall ${apt_pkgs[*]}"
/usr/bin/python3 -c 'import nbclient, nbconvert, nbformat' 2>/dev/null ||
	fail "/usr/bin/python3 cannot import nbclient/nbconvert/nbformat" "apt-get install --reinstall python3-nbclient jupyter-nbconvert"

# The Go side: module downloads (MNIST lives in a module) and the pinned tools.
export GOTOOLCHAIN=local GOWORK=off GOFLAGS=-mod=mod
go mod download ||
	fail "go mod download (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))" "go mod download -x"
if [ ! -x .bin/gonb ] || [ ! -x .bin/goimports ] || [ go.mod -nt .bin/gonb ]; then
	echo "setup: building the pinned GoNB kernel and goimports into .bin/"
	GOBIN="$root/.bin" go install tool || fail "go install tool (GoNB v0.11.1, goimports)" "GOBIN=$root/.bin go install tool"
fi

# The kernel spec: GoNB, with PATH holding .bin (goimports) and the Go
# toolchain used now, so that the kernel works whatever shell starts Jupyter.
gobin=$(dirname "$(command -v go)")
mkdir -p .jupyter/kernels/gonb
cat >.jupyter/kernels/gonb/kernel.json <<JSON
{
  "argv": ["$root/.bin/gonb", "--kernel", "{connection_file}", "--raw_error"],
  "display_name": "Go (GoNB, eoskit)",
  "language": "go",
  "env": {
    "PATH": "$root/.bin:$gobin:/usr/local/bin:/usr/bin:/bin:\${PATH}",
    "GOTOOLCHAIN": "local",
    "GOWORK": "off",
    "GOFLAGS": "-mod=mod"
  }
}
JSON
echo "setup: ok (kernel spec: $root/.jupyter/kernels/gonb/kernel.json)"
