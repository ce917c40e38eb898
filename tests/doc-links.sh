#!/usr/bin/env bash
# Fails when the rendered docs of the workspace's crates hold a dead link: an intra-doc
# link rustdoc left unresolved (rendered as "[`name`]" text, which `-D warnings` does not
# catch), or a relative `href` to a page that does not exist.
#
# rustdoc links to another crate only if that crate's docs are already in target/doc
# when it starts, and `cargo doc --no-deps` renders the workspace's crates in parallel,
# in no order: a crate's links to a layer below come out as plain text whenever that
# layer finishes later. Without `--no-deps`, cargo renders each crate after the crates
# it depends on, so the docs are rendered that way here, then checked. (The facade
# inlines its layers, so its own pages never depend on the order.)
set -euo pipefail
cd "$(dirname "$0")/.."

RUSTDOCFLAGS="-D warnings" cargo doc --workspace --quiet

doc_dir="${CARGO_TARGET_DIR:-target}/doc"
crates=(websockets ws_frame ws_handshake ws_stream ws_client ws_server ws_tls)

python3 - "$doc_dir" "${crates[@]}" <<'PY'
import os
import re
import sys
from urllib.parse import unquote

doc_dir, crates = sys.argv[1], sys.argv[2:]
unresolved = re.compile(r"\[<code>[^<]*</code>\]")
href = re.compile(r'href="([^"#?]*)[^"]*"')
problems = []
checked = 0
for crate in crates:
    root = os.path.join(doc_dir, crate)
    if not os.path.isdir(root):
        problems.append(f"{root}: no docs rendered")
        continue
    for directory, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".html"):
                continue
            path = os.path.join(directory, name)
            checked += 1
            with open(path, encoding="utf-8") as page:
                text = page.read()
            # Source pages show the code as written, brackets and all.
            if os.sep + "src" + os.sep not in path:
                for match in unresolved.finditer(text):
                    problems.append(f"{path}: unresolved link {match.group(0)}")
            for target in href.findall(text):
                if not target or re.match(r"^[a-z]+:", target) or target.startswith("/"):
                    continue
                # rustdoc's own chrome: a script template, and the "all items" page it
                # links from inlined modules without rendering one.
                if "${" in target or target == "all.html":
                    continue
                resolved = os.path.normpath(os.path.join(directory, unquote(target)))
                if not os.path.exists(resolved):
                    problems.append(f"{path}: dead link {target}")
for problem in problems:
    print(problem, file=sys.stderr)
if problems:
    sys.exit(f"doc-links: {len(problems)} dead links in {checked} pages")
print(f"doc-links: {checked} pages, no dead links")
PY
