"""The documentation runs: every ```python block of README.md and docs/*.md, and every link
into the code.

Blocks. Each page runs as a reader would type it: its ``python`` blocks in page order, in one
namespace per page, in a fresh temporary working directory, with matplotlib's Agg backend.
The info string after ``python`` may say more about a block:

- ``no-run (why)``: the block is not run; the reason must be written there, in the info
  string (such blocks are rare: a GPU, a download, a run of many minutes).
- ``raises=SomeError``: the block's last statement must raise that error (the statements
  before it run as usual).
- ``file=NAME.py``: the block is compiled as the file NAME.py, so that what names the file
  (a trace's "made at" column, a traceback) reads as it does for a reader who saved the
  block under that name and ran it.

A fenced block whose info string is ``output``, right after a python block, is what that block
prints: the test compares it with what the block really printed (for a ``raises=`` block,
followed by the line ``ErrorName: message``). ``...`` in it stands for any text. So every
number a page shows after a block is the number the code gives today.

Blocks that need the real Fashion-MNIST and do not find it end the page's test with a skip,
unless ``TINYGRAD_SM_REQUIRE_DATA`` is set (as in CI), where they fail.

Links. Every relative link in the docs must point at a file that exists, and a link to a line
of code (``[`run_backward`](../tinygrad_sm/autograd.py#L57)``) must name, in its text, a
function, class or variable that appears on that line. When the code has moved, the failure
says where the name is now.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import dataclasses
import io
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest

import tinygrad_sm
from tinygrad_sm.data.fashion_mnist import FashionMNISTNotFoundError

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclasses.dataclass
class Block:
    """One fenced code block: where it starts (1-based line of the opening fence), its info
    string, and its text (the fence's indentation removed)."""

    page: Path
    line: int
    end: int  # the line of the closing fence
    info: str
    text: str
    output: Block | None = None  # the ```output block that follows, for a python block

    @property
    def language(self) -> str:
        return self.info.split()[0] if self.info.split() else ""

    def option(self, name: str) -> str | None:
        """The value of ``name=value`` in the info string, or "" for a bare ``name``."""
        for word in self.info.split()[1:]:
            key, _, value = word.partition("=")
            if key == name:
                return value
        return None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks_of(page: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, in order, each python block with its output."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body = []
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            line = lines[j]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            j += 1
        if j == len(lines):
            raise AssertionError(f"{page.relative_to(ROOT)}:{i + 1}: a code block that is never "
                                 "closed")
        found.append(Block(page, i + 1, j + 1, opening["info"].strip(), "\n".join(body) + "\n"))
        # An output block belongs to the python block just before it, with only blank lines
        # between the two.
        if found[-1].language == "output" and len(found) > 1 and found[-2].language == "python":
            between = lines[found[-2].end:i]
            if all(not s.strip() for s in between):
                found[-2].output = found[-1]
        i = j + 1
    return found


def _matches(expected: str, actual: str) -> bool:
    """Whether ``actual`` is ``expected``, where ``...`` in ``expected`` stands for any text;
    trailing spaces and leading or trailing blank lines do not count."""
    def tidy(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())
    pattern = ".*?".join(re.escape(part) for part in tidy(expected).split("..."))
    return re.fullmatch(pattern, tidy(actual), flags=re.DOTALL) is not None


def _error_type(name: str, namespace: dict) -> type:
    for source in (namespace, vars(builtins), vars(tinygrad_sm)):
        if isinstance(source.get(name), type):
            return source[name]
    raise AssertionError(f"raises={name}: no exception of that name in builtins, tinygrad_sm "
                         "or the page's namespace")


def run_block(block: Block, namespace: dict) -> str:
    """Run one python block in ``namespace``; return what it printed (and, for a raises=
    block, the error's line)."""
    tree = ast.parse(block.text, filename=block.option("file") or block.where)
    filename = block.option("file") or block.where
    expected_error = block.option("raises")
    last = tree.body.pop() if expected_error else None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(tree, filename, "exec"), namespace)
        if last is not None:
            error_type = _error_type(expected_error, namespace)
            with pytest.raises(error_type) as info:
                exec(compile(ast.Module([last], []), filename, "exec"), namespace)
            print(f"{type(info.value).__name__}: {info.value}")
    return out.getvalue()


def python_blocks(page: Path) -> list[Block]:
    return [b for b in blocks_of(page) if b.language == "python"]


@pytest.fixture
def reader(tmp_path, monkeypatch):
    """A reader's fresh session: an empty working directory, plots to files, no display."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("D2L_FIGURES", str(tmp_path / "d2l_figures"))
    try:
        import matplotlib
        matplotlib.use("Agg", force=True)
    except ImportError:
        pass
    # NumPy's print options as a new session has them (tensors print through NumPy), and back
    # to what they were afterwards: a page may set its own, as a reader may.
    saved = np.get_printoptions()
    np.set_printoptions(**NUMPY_PRINT_DEFAULTS)
    yield tmp_path
    np.set_printoptions(**saved)


NUMPY_PRINT_DEFAULTS = dict(precision=8, threshold=1000, edgeitems=3, linewidth=75,
                            suppress=False, nanstr="nan", infstr="inf", sign="-",
                            floatmode="maxprec", formatter=None, legacy=False)


PAGES_WITH_CODE = [p for p in PAGES if python_blocks(p)]


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_block_of_the_page_runs_in_order(page, reader):
    namespace: dict = {"__name__": "__main__"}
    ran = []
    for block in python_blocks(page):
        if block.option("no-run") is not None:
            reason = block.info.split("no-run", 1)[1].strip()
            assert reason, (f"{block.where}: a no-run block must say why in its info string, "
                            "e.g. ```python no-run (needs a GPU)")
            continue
        start = time.perf_counter()
        try:
            printed = run_block(block, namespace)
        except FashionMNISTNotFoundError as e:
            if os.environ.get("TINYGRAD_SM_REQUIRE_DATA"):
                raise
            pytest.skip(f"{block.where} needs Fashion-MNIST, which is not installed here ({e}); "
                        f"the blocks before it ran: {ran}")
        except BaseException as e:
            raise AssertionError(f"the block at {block.where} failed:\n{block.text}") from e
        ran.append(f"{block.line} ({time.perf_counter() - start:.2f} s)")
        if block.output is not None:
            assert _matches(block.output.text, printed), (
                f"the block at {block.where} printed\n{printed}\nbut the page shows (at "
                f"{block.output.where})\n{block.output.text}")
    check_pictures(page, reader)


def svg_labels(path: Path) -> list[str]:
    """The text of an SVG's labels, without the gradient norms (their last digits may differ
    from one BLAS to another)."""
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text(encoding="utf-8"))
    return sorted(t for t in texts if not t.startswith("|grad|"))


def check_pictures(page: Path, drawn_in: Path) -> None:
    """An SVG that the page shows from docs/images and that its code drew again (under the same
    name, in the working directory) must show the same graph: the picture is not stale."""
    for name in re.findall(r"\]\(images/([\w.-]+\.svg)\)", page.read_text(encoding="utf-8")):
        fresh = drawn_in / name
        if fresh.exists():
            shown = page.parent / "images" / name
            assert svg_labels(shown) == svg_labels(fresh), (
                f"{shown.relative_to(ROOT)} is not what the code of {page.name} draws now: "
                f"copy the new drawing over it (the page's code writes {name})")


def test_output_blocks_follow_a_python_block():
    """An ```output block stands right after the python block whose output it is."""
    for page in PAGES:
        found = blocks_of(page)
        owned = {id(b.output) for b in found if b.output is not None}
        for b in found:
            assert b.language != "output" or id(b) in owned, (
                f"{b.where}: an output block that follows no python block")


# ---------------------------------------------------------------------------------- links

LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]+)\]\((?P<target>[^)\s]+)\)")
LINE_ANCHOR = re.compile(r"^#L(?P<line>\d+)(?:-L\d+)?$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\(\))?$")


def links_of(page: Path) -> list[tuple[int, str, str]]:
    """(line number, link text, target) of every link outside code blocks."""
    result = []
    in_code = False
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            in_code = not in_code
            continue
        if not in_code:
            result.extend((number, m["text"], m["target"]) for m in LINK.finditer(line))
    return result


def _word(name: str) -> re.Pattern:
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])")


def where_is(name: str, lines: list[str]) -> list[int]:
    """The lines (1-based) that ``name`` now stands for: where the dotted text appears as it
    is (``leaf.grad``), else where it is defined (``Class.method``: the ``def`` after the
    ``class``), else where its last part appears."""
    if "." in name:
        whole = _word(name)
        written = [k + 1 for k in range(len(lines)) if whole.search(lines[k])]
        if written:
            return written
    *owners, last = name.split(".")
    start = 0
    for owner in owners:  # Function.__call__: the def __call__ after class Function
        for k in range(start, len(lines)):
            if re.match(rf"^\s*class\s+{re.escape(owner)}\b", lines[k]):
                start = k
                break
    definition = re.compile(rf"^\s*(def|class)\s+{re.escape(last)}\b|^\s*{re.escape(last)}\s*[:=]")
    defined = [k + 1 for k in range(start, len(lines)) if definition.search(lines[k])]
    if defined:
        return defined
    word = _word(last)
    return [k + 1 for k in range(len(lines)) if word.search(lines[k])]


def check_line_link(page: Path, number: int, text: str, path: Path, line: int) -> str | None:
    """None if line ``line`` of ``path`` holds the name that the link text gives, else why not."""
    here = f"{page.relative_to(ROOT)}:{number}: link [{text}]"
    name = text.strip().strip("`").strip()
    if not (text.strip().startswith("`") and NAME.match(name)):
        return (f"{here}: the text of a link to a line of code must name the function, class or "
                "variable there, in backticks, e.g. [`run_backward`]")
    name = name.removesuffix("()")
    lines = path.read_text(encoding="utf-8").splitlines()
    last = name.split(".")[-1]
    if 1 <= line <= len(lines) and _word(last).search(lines[line - 1]):
        return None
    relative = os.path.relpath(path, page.parent)
    found = where_is(name, lines)
    reads = repr(lines[line - 1].strip()) if 1 <= line <= len(lines) else "past the end"
    if not found:
        return (f"{here} points at {relative}#L{line}, which reads {reads}; {last!r} no longer "
                f"appears anywhere in {relative}")
    best = min(found, key=lambda k: abs(k - line))
    return (f"{here} points at {relative}#L{line}, which reads {reads}, but {last!r} is now at "
            f"line {best} ({lines[best - 1].strip()!r}): change the link to "
            f"{relative}#L{best}")


def test_links_point_at_files_that_exist_and_lines_that_hold_their_names():
    problems = []
    for page in PAGES:
        for number, text, target in links_of(page):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue  # a web address, or a heading of the same page
            file_part, _, anchor = target.partition("#")
            path = (page.parent / file_part).resolve()
            if not path.exists():
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                problems.append(f"{page.relative_to(ROOT)}:{number}: link [{text}]({target}): "
                                f"no such file {shown}")
                continue
            line_anchor = LINE_ANCHOR.match("#" + anchor) if anchor else None
            if line_anchor and path.is_file():
                problem = check_line_link(page, number, text, path, int(line_anchor["line"]))
                if problem:
                    problems.append(problem)
    assert not problems, "\n".join(problems) + (
        "\n(`python tests/test_docs.py --fix-links` points every moved link at its new line)"
        if any("change the link to" in p for p in problems) else "")


def fix_moved_links() -> list[str]:
    """Point every line link whose name has moved at the line where the name is now (the
    line the check suggests); return what was changed."""
    changed = []
    for page in PAGES:
        before = page.read_text(encoding="utf-8")
        lines = before.split("\n")
        for number, text, target in links_of(page):
            file_part, _, anchor = target.partition("#")
            line_anchor = LINE_ANCHOR.match("#" + anchor) if anchor else None
            path = (page.parent / file_part).resolve()
            if not line_anchor or not path.is_file():
                continue
            problem = check_line_link(page, number, text, path, int(line_anchor["line"]))
            if problem and "change the link to " in problem:
                new = problem.rsplit("change the link to ", 1)[1]
                lines[number - 1] = lines[number - 1].replace(f"[{text}]({target})",
                                                              f"[{text}]({new})")
                changed.append(f"{page.relative_to(ROOT)}:{number}: [{text}] {target} -> {new}")
        if "\n".join(lines) != before:  # only pages with a moved link are written
            page.write_text("\n".join(lines), encoding="utf-8")
    return changed


def test_the_link_check_says_where_a_name_has_moved(tmp_path):
    """The message a moved function gets: its new line, and the link to write."""
    code = tmp_path / "engine.py"
    code.write_text("import heapq\n\n\nclass Loop:\n    def run(self):\n        pass\n")
    page = ROOT / "docs" / "autograd.md"
    assert check_line_link(page, 1, "`Loop.run`", code, 5) is None
    message = check_line_link(page, 7, "`Loop.run`", code, 2)
    assert "'run' is now at line 5 ('def run(self):')" in message
    assert message.endswith("engine.py#L5")
    assert "backticks" in check_line_link(page, 1, "the loop", code, 4)
    assert "no longer appears" in check_line_link(page, 1, "`gone`", code, 1)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors_of(page: Path) -> set[str]:
    found = set()
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            found.add(slug(line.lstrip("#")))
    return found


def test_links_to_a_section_name_one_that_exists():
    problems = []
    for page in PAGES:
        for number, text, target in links_of(page):
            if re.match(r"^[a-z]+:", target):
                continue
            file_part, _, anchor = target.partition("#")
            if not anchor or anchor.startswith("L"):
                continue
            path = page if not file_part else (page.parent / file_part).resolve()
            if path.suffix == ".md" and path.exists() and anchor not in anchors_of(path):
                problems.append(f"{page.relative_to(ROOT)}:{number}: link [{text}]({target}): "
                                f"{path.name} has no heading whose anchor is #{anchor}; its "
                                f"anchors: {sorted(anchors_of(path))}")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ the op map and the op table

def op_classes() -> dict[str, type]:
    """Every Function subclass defined in tinygrad_sm/ops, by name."""
    import importlib
    import inspect
    import pkgutil

    from tinygrad_sm import ops
    from tinygrad_sm.function import Function
    found = {}
    for info in pkgutil.iter_modules(ops.__path__):
        module = importlib.import_module(f"tinygrad_sm.ops.{info.name}")
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, Function) and \
                    value.__module__ == module.__name__:
                found[name] = value
    return found


def _class_links(page: Path) -> dict[str, list[str]]:
    """Class name -> the targets of the links to it, for links whose text is `Name`."""
    links: dict[str, list[str]] = {}
    for _, text, target in links_of(page):
        links.setdefault(text.strip("`"), []).append(target)
    return links


def test_index_md_links_every_op_to_its_file():
    import inspect
    links = _class_links(ROOT / "docs" / "index.md")
    problems = []
    for name, cls in op_classes().items():
        file = Path(inspect.getsourcefile(cls)).relative_to(ROOT).as_posix()
        if not any(t.partition("#")[0] == f"../{file}" for t in links.get(name, [])):
            problems.append(f"{name} ({file}) has no row in docs/index.md's op map: add one, "
                            f"[`{name}`](../{file}#L{inspect.getsourcelines(cls)[1]})")
    assert not problems, "\n".join(problems)


def test_autograd_md_says_what_each_op_reads():
    """Section 4's tables: one row per op, and its last column agrees with the op's
    saves_inputs and saves_output, which the engine's version check relies on."""
    rows = {}
    for line in (ROOT / "docs" / "autograd.md").read_text(encoding="utf-8").splitlines():
        row = re.match(r"^\| \[`(?P<name>\w+)`\]\([^)]*\) \|.*\| (?P<reads>[^|]*) \|$", line)
        if row:
            rows[row["name"]] = row["reads"]
    problems = []
    for name, cls in op_classes().items():
        if name not in rows:
            problems.append(f"{name}: no row in docs/autograd.md section 4")
            continue
        said = ("inputs" in rows[name], "output" in rows[name])
        if said != (cls.saves_inputs, cls.saves_output):
            problems.append(f"{name}: docs/autograd.md says it reads {rows[name]!r}, but "
                            f"saves_inputs={cls.saves_inputs}, saves_output={cls.saves_output}")
    assert not problems, "\n".join(problems)


if __name__ == "__main__":
    import sys
    if sys.argv[1:] != ["--fix-links"]:
        sys.exit("usage: python tests/test_docs.py --fix-links   (the tests run under pytest)")
    print("\n".join(fix_moved_links()) or "every line link holds its name")


# ------------------------------------------------------------------ the tests the docs name

def test_the_tests_that_the_docs_name_exist():
    """``test_file.py::test_name``, ``::test_name`` (in the file named last) and a bare
    `` `test_name` `` in the docs name tests that exist, so a renamed test cannot leave a
    promise without its proof."""
    import ast
    defined = {}
    for path in (ROOT / "tests").glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined[path.name] = {node.name for node in ast.walk(tree)
                              if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    every_test = set().union(*defined.values())
    library = " ".join(p.read_text(encoding="utf-8") for p in (ROOT / "tinygrad_sm").rglob("*.py"))
    problems = []
    for page in PAGES:
        last_file = None
        text = page.read_text(encoding="utf-8")
        for m in re.finditer(r"(test_[a-z0-9_]+\.py)(?:::(test_\w+))?|::(test_\w+)|`(test_\w+)`",
                             text):
            file, named, continued, bare = m.groups()
            line = text.count("\n", 0, m.start()) + 1
            where = f"{page.relative_to(ROOT)}:{line}"
            if file:
                last_file = file
                if file not in defined:
                    problems.append(f"{where}: no test file tests/{file}")
                elif named and named not in defined[file]:
                    problems.append(f"{where}: tests/{file} has no {named}")
            elif continued and continued not in defined.get(last_file, ()):
                problems.append(f"{where}: tests/{last_file} has no {continued}")
            elif bare and bare not in every_test and not _word(bare).search(library):
                problems.append(f"{where}: no test named {bare} in tests/")
    assert not problems, "\n".join(problems)


def library_files() -> list[str]:
    """The library's Python files, as paths from the repository's root: those git tracks (a file
    still being written is not yet part of the map), or all of them outside a git checkout."""
    import subprocess
    try:
        listed = subprocess.run(["git", "ls-files", "tinygrad_sm"], cwd=ROOT, capture_output=True,
                                text=True, check=True, timeout=30).stdout.split()
    except (OSError, subprocess.SubprocessError):
        listed = [p.relative_to(ROOT).as_posix() for p in (ROOT / "tinygrad_sm").rglob("*")]
    return sorted(p for p in listed if p.endswith(".py"))


def test_index_md_maps_every_file_of_the_library():
    targets = {(ROOT / "docs" / t.partition("#")[0]).resolve()
               for _, _, t in links_of(ROOT / "docs" / "index.md")}
    missing = [f for f in library_files() if (ROOT / f).resolve() not in targets]
    assert not missing, ("docs/index.md's map of the code does not link these files; add them "
                         f"to its table: {missing}")
