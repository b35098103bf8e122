"""How a check's verdict looks: a coloured badge in a notebook, aligned lines in a terminal.

    show([Result("bce_loss", "FAIL", "...")])   # in a notebook: an HTML block; elsewhere: printed text

A check cell must show one verdict and nothing else: `check()` used to return
True/False, and the notebook printed that as a second line under the verdict
(under "NOT IMPLEMENTED", a stray "False" reads like a second error). So the
verdict is *displayed*, and the functions return None. Messages are wrapped at
word boundaries (never mid-word, as a 300-character line wraps in a notebook)
and keep their own line breaks: the checks align "the reference applies" with
"yours applies" on purpose.
"""

import html
import os
import re
import textwrap

from checks.core.status import FAIL, NOT_ANSWERED, NOT_IMPLEMENTED, PASS

WIDTH = 100  # characters per line of a message: what fits a notebook's output area

# Badge colours: green, red, amber (nothing wrong yet: just not written); grey for anything else.
COLOURS = {PASS: "#1a7f37", FAIL: "#cf222e", NOT_IMPLEMENTED: "#9a6700", NOT_ANSWERED: "#9a6700"}

STYLE = """<style>
.gan-check {font-family: var(--jp-content-font-family, sans-serif); margin: 2px 0; line-height: 1.45;}
.gan-check-badge {display: inline-block; min-width: 9em; padding: 1px 8px; margin-right: 8px; border-radius: 4px;
  color: white; font-weight: 600; font-size: 0.85em; text-align: center;}
.gan-check-name {font-family: var(--jp-code-font-family, monospace); font-weight: 600;}
.gan-check-message {margin: 4px 0 2px 1.2em; white-space: pre-wrap; overflow-wrap: break-word; word-break: normal;
  font-family: var(--jp-code-font-family, monospace); font-size: 0.9em; max-width: 110ch;}
.gan-check table.gan-check-layers {margin: 4px 0 2px 1.2em; border-collapse: collapse; font-size: 0.85em;}
.gan-check-layers th, .gan-check-layers td {border: 1px solid #d0d7de; padding: 2px 8px;
  text-align: left !important;  /* JupyterLab right-aligns the cells of every table in an output */
  font-family: var(--jp-code-font-family, monospace);}
.gan-check-layers th {background: #f6f8fa; font-family: var(--jp-content-font-family, sans-serif);}
.gan-check-note {margin: 2px 0 2px 1.2em; color: #57606a; white-space: pre-wrap; max-width: 110ch;}
</style>"""


# A network check says where the student's network first differs as three lines (checks/core/generic.py,
# Yours.side_by_side); a notebook shows them as a table: where, what the reference applies, what yours does.
SIDE_BY_SIDE = re.compile(r"\n\s*((?:between|after|before) [^\n]*):\n\s*the reference applies: ([^\n]*)"
                          r"(?:\n\s*yours applies:\s*([^\n]*))?")


def _message_html(message):
    """The message as HTML: its text, and the side-by-side lines as a small table."""
    found = SIDE_BY_SIDE.search(message)
    if not found:
        return f'<div class="gan-check-message">{html.escape(message)}</div>'
    where, reference, yours = (html.escape(g) if g else "" for g in found.groups())
    rest = (message[:found.start()] + message[found.end():]).strip("\n")
    yours = yours or "(not known: look at your forward())"
    return (f'<div class="gan-check-message">{html.escape(rest)}</div>'
            f'<table class="gan-check-layers"><tr><th>where</th><th>the reference applies</th>'
            f'<th>yours applies</th></tr><tr><td>{where}</td><td>{reference}</td><td>{yours}</td></tr></table>')


def wrap(message, width=WIDTH, indent=""):
    """`message` wrapped at word boundaries, each of its own lines on its own (their indents kept)."""
    lines = []
    for line in str(message).splitlines() or [""]:
        lead = line[:len(line) - len(line.lstrip())]
        lines += textwrap.wrap(line, width=width, initial_indent=indent, subsequent_indent=indent + lead + "  ",
                               break_long_words=False, break_on_hyphens=False) or [indent]
    return "\n".join(lines)


class Feedback:
    """The verdicts of one check cell (or one `make check` run): rich in a notebook, text elsewhere."""

    def __init__(self, results):
        self.results = list(results)

    @property
    def passed(self):
        return all(r.status == PASS for r in self.results)

    def text(self, width=WIDTH):
        """Aligned lines, as `make check` prints them: STATUS  name: message (wrapped), notes."""
        out = []
        for r in self.results:
            head = f"{r.status:<16} {r.name}"
            if r.message:
                first, _, rest = r.message.partition("\n")
                head = textwrap.fill(f"{head}: {first}", width, subsequent_indent=" " * 17,
                                     break_long_words=False, break_on_hyphens=False)
                if rest:
                    head += "\n" + wrap(rest, width, indent=" " * 17)
            out.append(head + "".join("\n" + wrap(f"note: {note}", width, " " * 17) for note in r.notes))
        return "\n".join(out)

    def __repr__(self):   # what a notebook saves as text/plain, and what a terminal IPython shows
        return self.text()

    def _repr_html_(self):
        blocks = []
        for r in self.results:
            colour = COLOURS.get(r.status, "#57606a")
            kind = r.status.lower().replace(" ", "-")
            message = _message_html(r.message) if r.message else ""
            notes = "".join(f'<div class="gan-check-note">note: {html.escape(n)}</div>' for n in r.notes)
            blocks.append(f'<div class="gan-check gan-check-{kind}"><span class="gan-check-badge gan-check-{kind}" '
                          f'style="background:{colour}">{html.escape(r.status)}</span> '
                          f'<span class="gan-check-name">{html.escape(r.name)}</span>{message}{notes}</div>')
        return STYLE + "".join(blocks)


def in_notebook():
    """True inside a Jupyter kernel (where HTML shows), False in a terminal or a plain script."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def show(results):
    """Display the verdicts: HTML (with the text as its plain version) in a notebook, printed text elsewhere."""
    feedback = Feedback(results)
    if in_notebook():
        from IPython.display import display

        display(feedback)
    else:
        print(feedback.text())
    return feedback


def validating():
    """True while nbgrader runs the notebook (its Validate button, or autograding)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def autograding():
    """True while nbgrader autogrades (the grades were decided before the notebook ran: tools/autograde.py)."""
    return os.environ.get("NBGRADER_EXECUTION") == "autograde"


class NotPassing(AssertionError):
    """Raised by a check cell under nbgrader when something fails: the cell then scores 0, so nbgrader's
    Validate button reports it (a cell that only displays FAIL would count as passed). IPython shows
    just the message, no traceback."""

    def _render_traceback_(self):
        return [str(self)]


def fail_under_nbgrader(feedback):
    """Under nbgrader, a verdict that is not PASS fails the cell (see NotPassing)."""
    if validating() and not feedback.passed:
        # The Validate dialog shows this text alone (not the notebook's HTML): it carries the whole verdict.
        # nbgrader cuts its lines at 90 characters, after an indent of 4.
        raise NotPassing(Feedback([r for r in feedback.results if r.status != PASS]).text(width=84))
