# Shell functions shared by the scripts that run the pinned Directus 10.13.1
# of tests/directus (source it; it sets no shell options of its own).
#
#   DS_ROOT                    the repository root
#   ds_say MSG...              "<script>: MSG" on stderr
#   ds_need_tools TOOL...      fails with a clear message when a tool is missing
#   ds_install_directus_deps   `npm ci` in tests/directus when node_modules is
#                              missing or older than package(-lock).json
#                              (the same stamp file as scripts/test)
#   ds_install_mermaid_deps    the same in tests/mermaid: Mermaid's parser, which
#                              the tests run on the diagrams the tool prints
#   ds_free_port               prints a free TCP port on 127.0.0.1
#   ds_ping URL                succeeds when GET URL/server/ping answers "pong"
#   ds_node ARGS...            node with only PATH/HOME/TMPDIR/LANG from the
#                              caller's environment plus the NAME=VALUE words
#                              in the array DS_NODE_ENV: Directus reads many
#                              variables (DB_*, PORT, KEY...) and nothing from
#                              the user's shell may leak into it
#   ds_node_command            the same command line, as the array DS_NODE_CMD

DS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DS_DIRECTUS_DIR="$DS_ROOT/tests/directus"
DS_DIRECTUS_CLI="$DS_DIRECTUS_DIR/node_modules/directus/cli.js"

ds_say() { echo "$(basename "$0"): $*" >&2; }

ds_need_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { ds_say "error: '$tool' is not installed"; return 1; }
    done
}

# `npm ci` in the npm project DIR (WHAT names it in messages) unless its node_modules
# holds a stamp newer than package.json and package-lock.json (the stamp is written after
# a successful `npm ci`: its mtime says which lockfile is installed).
ds_npm_ci_when_stale() {
    local dir=$1 what=$2 stamp=$1/node_modules/.directus-sync-installed started=$SECONDS
    if [[ -f $stamp && ! $dir/package-lock.json -nt $stamp && ! $dir/package.json -nt $stamp ]]; then
        ds_say "$what deps up to date (${dir#"$DS_ROOT"/}/node_modules)"
        return 0
    fi
    ds_say "installing $what: npm ci in ${dir#"$DS_ROOT"/} (node $(node --version), npm $(npm --version))"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || return 1
    touch "$stamp"
    ds_say "npm ci done in $((SECONDS - started))s"
}

ds_install_directus_deps() {
    ds_npm_ci_when_stale "$DS_DIRECTUS_DIR" "Directus 10.13.1"
}

ds_install_mermaid_deps() {
    ds_npm_ci_when_stale "$DS_ROOT/tests/mermaid" "Mermaid"
}

ds_free_port() {
    node -e '
        const server = require("net").createServer();
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address();
            server.close(() => console.log(port));
        });'
}

ds_ping() {
    node -e '
        fetch(process.argv[1] + "/server/ping", { signal: AbortSignal.timeout(2000) })
            .then((r) => r.text())
            .then((body) => process.exit(body === "pong" ? 0 : 1), () => process.exit(1));' "$1"
}

DS_NODE_ENV=()
ds_node_command() {
    local keep=() name
    for name in PATH HOME TMPDIR LANG; do
        [[ -n ${!name:-} ]] && keep+=("$name=${!name}")
    done
    DS_NODE_CMD=(env -i "${keep[@]}" "${DS_NODE_ENV[@]}" node)
}
ds_node() {
    ds_node_command
    "${DS_NODE_CMD[@]}" "$@"
}
