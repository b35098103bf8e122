"""Who may have copied from whom: how much of what two students wrote is the same (copydetect's winnowing).

copydetect fingerprints code as MOSS does: the code is tokenised, every name
becomes one letter (so renaming variables changes nothing), comments and
whitespace vanish, and a robust sample of its k-grams ("winnowing") is kept.
Two files that share many fingerprints share passages of code.

Run on whole files, that finds every pair of a class alike: the released
template is the same in every file, and short functions the docstrings dictate
(an nn.Sequential of the listed layers) come out alike in every correct
solution. So, per the measurements in docs/grading.md:

- only what the student wrote counts: each function's body (docstrings off,
  through `ast`, which also drops comments and formatting), helpers and any
  other module-level code; each unit is fingerprinted alone, so the order of
  the functions does not matter;
- fingerprints of the released template are boilerplate, removed;
- fingerprints found in many documents (at least `common_in` of them, as MOSS's
  -m option) are what the specification dictates, removed as well;
- the similarity of a pair is the share of the smaller document's remaining
  fingerprints found in the other's; a document with fewer than MIN_EVIDENCE
  remaining fingerprints is too short to say anything and is never flagged.

Similarity is evidence for a human to look at, not a verdict.
"""

import ast
import html
import io
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

from copydetect import CodeFingerprint, compare_files
from copydetect.utils import highlight_overlap

NOISE, GUARANTEE = 25, 30      # copydetect's defaults: k-grams of 25 characters of tokenised code, window 6
THRESHOLD = 0.6                # calibrated in tests/test_report.py (independent pairs <= 0.41, copies >= 0.93)
MIN_EVIDENCE = 20              # remaining fingerprints a document needs for a verdict
MAX_BYTES = 1_000_000          # a bigger file is not read (a student's module is a few KB)


@dataclass
class Document:
    """One student's (or one known solution's) written code, fingerprinted."""
    name: str                  # the student id, or "known:<its path in KNOWN>"
    units: dict                # {unit name: normalised source}: functions, classes, "<module>"
    hashes: set = field(default_factory=set)   # fingerprints after boilerplate (and, later, common ones) are removed
    error: str = ""            # why it could not be read


def read_source(path, within=None):
    """The text of the Python file (or notebook's code cells) at `path`; '' for a non-file, one too big, or a
    path through a link (anywhere below the folder `within`, when given: a student's folder may hold links)."""
    path = Path(path)
    top = Path(within) if within else path.parent
    below = [path, *[p for p in path.parents if top in p.parents]]
    if any(p.is_symlink() for p in below) or not path.is_file() or path.stat().st_size > MAX_BYTES:
        return ""
    text = path.read_text(errors="replace")
    if path.suffix == ".ipynb":
        try:
            cells = json.loads(text).get("cells", [])
            return "\n\n".join("".join(map(str, c.get("source", ""))) for c in cells
                                if isinstance(c, dict) and c.get("cell_type") == "code")
        except (ValueError, AttributeError, TypeError, RecursionError):
            return ""
    return text


def written_units(source, template_lines=frozenset()):
    """{name: code} of what `source` holds beyond the template: each top-level function and class (docstrings
    and comments removed), and the other module-level statements that are not the template's own."""
    tree = _Prose().visit(ast.parse(source))
    units, loose = {}, []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            units[node.name] = ast.unparse(node)
        elif (code := ast.unparse(node)) not in template_lines:
            loose.append(code)
    if loose:
        units["<module>"] = "\n".join(loose)
    return units


class _Prose(ast.NodeTransformer):
    """Removes strings that stand alone as statements: docstrings, wherever they are (prose, not code)."""

    def visit_Expr(self, node):
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return None
        return self.generic_visit(node)

    def generic_visit(self, node):
        super().generic_visit(node)
        if not isinstance(node, ast.Module) and getattr(node, "body", None) == []:
            node.body = [ast.Pass()]   # a function that held only its docstring
        return node


def fingerprints(code):
    """copydetect's fingerprints of one piece of Python code."""
    return CodeFingerprint("unit.py", NOISE, GUARANTEE - NOISE + 1, fp=io.StringIO(code)).hashes


class Template:
    """The released stub: its module-level lines and its fingerprints are boilerplate."""

    def __init__(self, source):
        units = written_units(source)
        self.lines = frozenset(units.pop("<module>", "").splitlines())
        self.hashes = set().union(*(fingerprints(code) for code in units.values())) if units else set()


def document(name, source, template):
    """The Document of `source` (what it wrote beyond `template`), or one with its error."""
    try:
        units = written_units(source, template.lines)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        return Document(name, {}, error=f"could not be read as Python ({type(e).__name__})")
    hashes = set().union(*(fingerprints(code) for code in units.values())) if units else set()
    return Document(name, units, hashes - template.hashes)


@dataclass
class Pair:
    a: str
    b: str
    similarity: float
    evidence: int              # shared fingerprints


def common_in(count):
    """In how many documents a fingerprint must be to count as dictated by the specification (MOSS's -m)."""
    return max(5, round(0.1 * count))


def compare(documents, threshold=THRESHOLD):
    """Every pair of `documents` above `threshold`, most similar first (two known solutions are not compared).

    Fingerprints shared by at least common_in(len(documents)) documents are removed from every document first.
    """
    seen = {}
    for doc in documents:
        for h in doc.hashes:
            seen[h] = seen.get(h, 0) + 1
    common = {h for h, n in seen.items() if n >= common_in(len(documents))}
    kept = {doc.name: doc.hashes - common for doc in documents}
    pairs = []
    for x, y in itertools.combinations(documents, 2):
        if x.name.startswith("known:") and y.name.startswith("known:"):
            continue
        a, b = kept[x.name], kept[y.name]
        if min(len(a), len(b)) < MIN_EVIDENCE:
            continue
        shared = len(a & b)
        similarity = shared / min(len(a), len(b))
        if similarity >= threshold:
            pairs.append(Pair(x.name, y.name, round(similarity, 3), shared))
    return sorted(pairs, key=lambda p: -p.similarity), common


def side_by_side(x, y, common, template):
    """Two HTML <pre> blocks of the pair's written code, the shared passages in <mark>."""
    removed = list(common | template.hashes)
    prints = [CodeFingerprint("unit.py", NOISE, GUARANTEE - NOISE + 1, boilerplate=removed,
                              fp=io.StringIO(_shown(doc))) for doc in (x, y)]
    _, _, slices = compare_files(*prints)
    return [f"<pre>{highlight_overlap(fp.raw_code, where, '<mark>', '</mark>', escape_html=True)[0]}</pre>"
            if len(where) and len(where[0]) else f"<pre>{html.escape(fp.raw_code)}</pre>"
            for fp, where in zip(prints, slices)]


def _shown(doc):
    """A document's written code as one text, its units in name order."""
    return "\n\n".join(doc.units[name] for name in sorted(doc.units))
