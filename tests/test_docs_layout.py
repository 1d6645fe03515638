"""The docs name only what exists: CONTRIBUTING.md's layout tables match the tree, and every command,
flag, make target, repository path and section link the READMEs show is real.

- **Layout.** Every top-level directory git tracks (dotfiles aside) and every module and subpackage
  directly in ``cis_monitoring/`` and ``cis_monitoring/core/`` has a row in the tables under
  CONTRIBUTING.md's ``## Layout``; every path in their first column exists.
- **Commands.** Each ``cis-monitoring <command> --flag ...`` in a code block or code span of the docs
  names a command of ``cis_monitoring.cli.COMMANDS`` and only flags that command's ``--help`` lists.
- **Make targets.** Each ``make <target>`` in code is a target of the Makefile.
- **Paths.** In README.md and CONTRIBUTING.md, each code span that starts with a top-level
  directory of the repository (``cis_monitoring/core/plan.py``) names a path that exists.
- **Links.** Each ``(#anchor)`` link in README.md and CONTRIBUTING.md goes to a heading of that file.

Each checker is a plain function, and a test feeds it a wrong row, path, flag or anchor, so the
checks are shown to fail.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from cis_monitoring import cli

REPO_ROOT = Path(__file__).resolve().parents[1]
CONTRIBUTING = REPO_ROOT / "CONTRIBUTING.md"
README = REPO_ROOT / "README.md"
DOCS = (
    README,
    CONTRIBUTING,
    REPO_ROOT / "policy" / "README.md",
    REPO_ROOT / "iam" / "README.md",
    REPO_ROOT / "rollup" / "README.md",
)
"""Every document that shows commands to users or contributors."""
ROOT_RELATIVE_DOCS = (README, CONTRIBUTING)
"""The documents whose paths are relative to the repository root (the others' are to their directory)."""
LAYOUT_HEADING = "## Layout"
LISTED_PACKAGES = ("cis_monitoring", "cis_monitoring/core")
"""Packages whose every direct child needs a row in the layout tables (``__init__.py`` is the package's own row)."""
COMMAND = "cis-monitoring"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
COMMAND_END = re.compile(r"\s(?:#|\||&&|;|>)")
"""Where a command line ends inside a code block: a comment, a pipe, ``&&``, ``;`` or a redirect."""


# ---------------------------------------------------------------- reading the docs


def tracked() -> list[str]:
    """The files git tracks, relative to the repository."""
    done = subprocess.run(
        ["git", "ls-files"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"git ls-files failed here ({done.stderr.strip()}): the layout needs git's list of files")
    return done.stdout.splitlines()


def children(files: Iterable[str], parent: str = "") -> set[str]:
    """The direct children of ``parent`` among ``files`` (directories with a trailing ``/``)."""
    prefix = f"{parent}/" if parent else ""
    found = set()
    for name in files:
        if not name.startswith(prefix):
            continue
        head, slash, _rest = name[len(prefix) :].partition("/")
        found.add(prefix + head + slash)
    return found


def section(text: str, heading: str) -> str:
    """The text under ``heading`` (a ``## `` line) up to the next ``## `` heading."""
    match = re.search(rf"^{re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"no '{heading}' section"
    return match.group(1)


def layout_paths(text: str) -> list[str]:
    """The paths in the first column of the layout tables (each backquoted, several per cell allowed)."""
    paths = []
    for line in section(text, LAYOUT_HEADING).splitlines():
        cells = line.split("|")
        if not line.startswith("|") or len(cells) < 3 or set(cells[1].strip()) <= {"-", ":"}:
            continue
        paths += re.findall(r"`([^`]+)`", cells[1])
    return paths


def layout_problems(paths: list[str], files: Iterable[str], root: Path) -> list[str]:
    """What the layout tables get wrong: rows missing for tracked directories and modules, paths that are not."""
    files = list(files)
    named = {p.rstrip("/") for p in paths}
    required = {c for c in children(files) if not c.startswith(".") and c.endswith("/")}
    for package in LISTED_PACKAGES:
        required |= {c for c in children(files, package) if not c.endswith("/__init__.py")}
    problems = [f"{c}: no row in the layout" for c in sorted(required) if c.rstrip("/") not in named]
    for path in paths:
        target = root / path
        if not target.exists():
            problems.append(f"{path}: named in the layout, but there is no such path")
        elif path.endswith("/") and not target.is_dir():
            problems.append(f"{path}: named as a directory, but it is a file")
    return problems


def code_texts(text: str) -> Iterator[str]:
    """Every command line of the fenced blocks (continuation lines joined), and every code span."""
    blocks = re.findall(r"^ *```[^\n]*\n(.*?)^ *```", text, re.MULTILINE | re.DOTALL)
    for block in blocks:
        yield from block.replace("\\\n", " ").splitlines()
    yield from spans(text)


def spans(text: str) -> list[str]:
    """The code spans outside fenced blocks; a span may wrap onto the next line of its paragraph."""
    prose = re.sub(r"^ *```[^\n]*\n.*?^ *```", "", text, flags=re.MULTILINE | re.DOTALL)
    found = re.findall(r"`([^`]+)`", prose)
    return [" ".join(span.split()) for span in found if "\n\n" not in span]


def commands(text: str) -> Iterator[tuple[str, list[str]]]:
    """``(command, flags)`` of every ``cis-monitoring ...`` in the code of ``text``."""
    for line in code_texts(text):
        # A command line starts with the command (after a `$ ` prompt in shown output): elsewhere in a
        # line, `cis-monitoring` is a word of the output ("DRILL by the cis-monitoring audit, run ...").
        match = re.match(rf"\s*(?:\$\s+)?{re.escape(COMMAND)}(\s.*)?$", line)
        if match is None:
            continue
        words = COMMAND_END.split(" " + (match.group(1) or ""))[0].split()
        if not words or words[0].startswith("<"):  # `cis-monitoring <command> --help`
            continue
        command = "" if words[0].startswith("-") else words[0]
        yield command, FLAG.findall(" ".join(words))


def help_text(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    """What ``cis-monitoring [command] --help`` prints."""
    capsys.readouterr()
    code = cli.main([command, "--help"] if command else ["--help"])
    out = capsys.readouterr().out
    assert code == 0, f"{COMMAND} {command} --help exited {code}"
    return out


def usage_flags(help_out: str) -> set[str]:
    """The flags a ``--help`` output's usage lists (the usage, not the descriptions: those name other flags)."""
    usage = help_out.split("\n\n", 1)[0]
    return set(FLAG.findall(usage)) | {"--help"}


def command_problems(docs: dict[str, str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Commands and flags the docs show that ``cis-monitoring`` does not have."""
    problems = []
    known: dict[str, set[str]] = {}
    for name, text in docs.items():
        for command, flags in commands(text):
            if command and command not in cli.COMMANDS:
                problems.append(f"{name}: `{COMMAND} {command}`: no such command")
                continue
            if command not in known:
                known[command] = usage_flags(help_text(command, capsys))
            shown = f"{COMMAND} {command}".strip()
            problems += [
                f"{name}: `{shown} {flag}`: {flag} is not in its --help"
                for flag in flags
                if flag not in known[command]
            ]
    return sorted(set(problems))


def make_problems(docs: dict[str, str], makefile: str) -> list[str]:
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.MULTILINE))
    found = {
        (name, target)
        for name, text in docs.items()
        for line in code_texts(text)
        for target in re.findall(r"(?<![\w-])make ([a-z][\w-]*)", line)
    }
    return sorted(
        f"{name}: `make {target}`: no such target" for name, target in found if target not in targets
    )


def path_problems(name: str, text: str, root: Path, tops: set[str]) -> list[str]:
    """Code spans that look like repository paths (first part a top-level directory) and are not."""
    problems = []
    for span in set(spans(text)):
        head = span.split("/", 1)[0]
        if "/" not in span or head not in tops or re.search(r"[\s*<>{}…]", span):
            continue
        if not (root / span).exists():
            problems.append(f"{name}: `{span}`: no such path")
    return sorted(problems)


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def link_problems(name: str, text: str) -> list[str]:
    prose = re.sub(r"^ *```[^\n]*\n.*?^ *```", "", text, flags=re.MULTILINE | re.DOTALL)
    anchors = {anchor(h) for h in re.findall(r"^#+ (.+)$", prose, re.MULTILINE)}
    links = set(re.findall(r"\]\(#([^)]+)\)", prose))
    return sorted(f"{name}: (#{link}): no such heading" for link in links if link not in anchors)


def _docs() -> dict[str, str]:
    return {str(p.relative_to(REPO_ROOT)): p.read_text(encoding="utf-8") for p in DOCS}


def _tops() -> set[str]:
    return {c.rstrip("/") for c in children(tracked()) if c.endswith("/")}


# ---------------------------------------------------------------- the docs as they are


def test_the_layout_tables_match_the_tree() -> None:
    problems = layout_problems(layout_paths(CONTRIBUTING.read_text(encoding="utf-8")), tracked(), REPO_ROOT)
    assert not problems, "CONTRIBUTING.md, ## Layout:\n" + "\n".join(problems)


def test_the_docs_show_only_commands_and_flags_that_exist(capsys: pytest.CaptureFixture[str]) -> None:
    docs = _docs()
    shown = [c for text in docs.values() for c in commands(text)]
    assert {c for c, _flags in shown} >= {"audit", "discover", "shards", "pack-config"}, (
        "the parser finds them"
    )
    problems = command_problems(docs, capsys)
    assert not problems, "\n".join(problems)


def test_the_docs_show_only_make_targets_that_exist() -> None:
    problems = make_problems(_docs(), (REPO_ROOT / "Makefile").read_text(encoding="utf-8"))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("doc", ROOT_RELATIVE_DOCS, ids=lambda p: p.name)
def test_repository_paths_in_the_docs_exist(doc: Path) -> None:
    problems = path_problems(doc.name, doc.read_text(encoding="utf-8"), REPO_ROOT, _tops())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("doc", ROOT_RELATIVE_DOCS, ids=lambda p: p.name)
def test_section_links_go_to_a_heading(doc: Path) -> None:
    problems = link_problems(doc.name, doc.read_text(encoding="utf-8"))
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- the checks can fail

FILES = ["Makefile", "components/x.py", "cis_monitoring/__init__.py", "cis_monitoring/cli.py"]
FILES += ["cis_monitoring/core/__init__.py", "cis_monitoring/core/plan.py", ".ci/run"]


def test_a_missing_row_and_a_wrong_path_are_found(tmp_path: Path) -> None:
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    table = "\n".join(
        [
            LAYOUT_HEADING,
            "| path | job |",
            "|---|---|",
            "| `components/` | ComponentResources |",
            "| `cis_monitoring/`, `cis_monitoring/cli.py` | the package; the command |",
            "| `cis_monitoring/core/plan.py/` | a file written as a directory |",
            "| `cis_monitoring/verify/` | gone |",
            "",
            "## Next",
            "| `not/in/the/layout/` | ignored |",
        ]
    )
    assert layout_problems(layout_paths(table), FILES, tmp_path) == [
        "cis_monitoring/core/: no row in the layout",
        "cis_monitoring/core/plan.py/: named as a directory, but it is a file",
        "cis_monitoring/verify/: named in the layout, but there is no such path",
    ]


def test_a_wrong_command_and_a_wrong_flag_are_found(capsys: pytest.CaptureFixture[str]) -> None:
    doc = "\n".join(
        [
            "```bash",
            "cis-monitoring audit --stack prod --members-from-organization \\",
            "    --role-name auditor --dril    # --not-a-flag in a comment",
            "cis-monitoring verify --stack prod",
            "cis-monitoring <command> --help",
            "  $ cis-monitoring shards --stack prod-0 --complet",
            'reason "DRILL by the cis-monitoring audit, run drill-1"',
            "```",
            "Then `cis-monitoring discover --write FILE` and `cis-monitoring --version`, `cis-monitoring --versio`.",
        ]
    )
    assert list(commands(doc)) == [
        ("audit", ["--stack", "--members-from-organization", "--role-name", "--dril"]),
        ("verify", ["--stack"]),
        ("shards", ["--stack", "--complet"]),
        ("discover", ["--write"]),
        ("", ["--version"]),
        ("", ["--versio"]),
    ]
    assert command_problems({"DOC": doc}, capsys) == [
        "DOC: `cis-monitoring --versio`: --versio is not in its --help",
        "DOC: `cis-monitoring audit --dril`: --dril is not in its --help",
        "DOC: `cis-monitoring shards --complet`: --complet is not in its --help",
        "DOC: `cis-monitoring verify`: no such command",
    ]


def test_a_flag_only_named_in_a_description_does_not_count() -> None:
    help_out = (
        "usage: x [-h] [--stack NAME]\n\noptions:\n  --stack NAME  the stack whose file --write updates\n"
    )
    assert usage_flags(help_out) == {"--stack", "--help"}


def test_a_wrong_make_target_a_wrong_path_and_a_wrong_link_are_found(tmp_path: Path) -> None:
    (tmp_path / "iam").mkdir()
    (tmp_path / "iam" / "auditor-policy.json").write_text("{}")
    doc = "\n".join(
        [
            "## Quick start",
            "Run `make demo` and `make tests`; read `iam/auditor-policy.json`, `iam/reader-policy.json`,",
            "`policy/config/<stack>.json`, `alias/aws/sns` and [the start](#quick-start), [gone](#layout).",
        ]
    )
    assert make_problems({"DOC": doc}, "demo: venv\n\tpython -m local.demo\n") == [
        "DOC: `make tests`: no such target"
    ]
    assert path_problems("DOC", doc, tmp_path, {"iam", "policy"}) == [
        "DOC: `iam/reader-policy.json`: no such path"
    ]
    assert link_problems("DOC", doc) == ["DOC: (#layout): no such heading"]
