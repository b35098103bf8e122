"""The class at a glance, after `make autograde` (`make report`): one page per assignment.

    python -m tools.report [--course course] [--known FOLDER] [--lab LAB] [--threshold 0.6]
    python -m tools.report --lab LAB --exported FOLDER [--known FOLDER]     # graded elsewhere: similarity only

For each assignment graded in the course, course/reports/<assignment>/ gets

- index.html: one self-contained page (no network, no script): the score
  distribution, each task's passes and failures, the most common causes of
  failure (counted from the checks' own diagnoses, checks/causes.py) with an
  example message each, the trained DCGAN's coverage across the class, the
  submissions a human should look at (a limit hit, a notebook that did not run,
  a submission that could not be graded), and pairs of similar submissions side
  by side with the shared passages marked (tools/similarity.py);
- scores.csv, causes.csv, similarity.csv: the same data for a spreadsheet
  (similarity.csv: student_a,student_b,similarity; a known solution is
  known:<its path in KNOWN>).

It reads what `make autograde` wrote (results/<assignment>/<student>.json),
the students' submitted modules and the released template. KNOWN: a folder of
solutions collected elsewhere (e.g. public ones from GitHub), .py or .ipynb;
each is compared with every student. Students appear by the ids the course
already uses; nothing else about them is shown. EXPORTED: submissions graded
elsewhere (a Gradescope export, unzipped: one folder per submission), for
their similarity alone; the page then has no grades.
"""

import argparse
import base64
import csv
import html
import io
import json
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

from checks.registry import LABS
from tools.autograde import results_path, valid_student_id
from tools.course import module_path
from tools import similarity

SHOWN_PAIRS = 40    # similar pairs shown side by side on the page (similarity.csv lists every one)

PAGE_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { margin-bottom: .2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5em 0; } td, th { padding: .25em .7em; border-bottom: 1px solid #eee;
text-align: left; vertical-align: top; } th { background: #f6f6f6; } td.n { text-align: right; }
.bar { background: #c0392b; height: .8em; display: inline-block; } .ok { color: #1e7e34; } .bad { color: #b00020; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: .8em; } .pair > div { min-width: 0; } pre { background: #fafafa; border: 1px solid #eee;
padding: .6em; overflow-x: auto; font-size: 12px; max-height: 30em; } mark { background: #ffe08a; }
.note { color: #555; font-size: 14px; } details { margin: .3em 0; } summary { cursor: pointer; }
"""


def results_of(course, assignment):
    """{student: results record} of `assignment`, as `make autograde` wrote them, for the students whose submission
    is still in submitted/ (a record of a student removed since is not shown). Links and odd files are skipped."""
    found = {}
    folder = results_path(course, assignment, "x").parent
    if not folder.is_dir():
        return found
    submitted = Path(course) / "submitted"
    for path in sorted(folder.glob("*.json")):
        student = path.stem
        if not valid_student_id(student) or path.is_symlink() or not path.is_file() \
                or (submitted.is_dir() and not (submitted / student).is_dir()):
            continue
        try:
            record = json.loads(path.read_text())
        except (ValueError, OSError, RecursionError):
            continue
        if isinstance(record, dict) and record.get("assignment") == assignment and isinstance(record.get("tasks", []), list):
            found[student] = record
    return found


# ---------------------------------------------------------------------------
# What the page says, as data
# ---------------------------------------------------------------------------

def score_summary(records):
    scores = [r["score"] for r in records.values() if r.get("graded")]
    top = max((r["max_score"] for r in records.values() if r.get("graded")), default=0)
    if not scores:
        return {"graded": 0, "not_graded": len(records), "max_score": top}
    return {"graded": len(scores), "not_graded": len(records) - len(scores), "max_score": top,
            "mean": round(statistics.mean(scores), 2), "median": statistics.median(scores), "min": min(scores),
            "max": max(scores), "stdev": round(statistics.pstdev(scores), 2),
            "full_marks": sum(1 for s in scores if s >= top)}


def task_table(records, lab):
    """Per autograded task: how many students' submissions passed, failed, were not implemented, or else (a task
    that no record holds is left out)."""
    rows = []
    for task in lab.tasks:
        if task.kind == "written":
            continue
        counts = Counter()
        for record in records.values():
            if record.get("graded"):
                status = next((t["status"] for t in record["tasks"] if t["name"] == task.name), "missing")
                counts[status if status in ("PASS", "FAIL", "NOT IMPLEMENTED") else "other"] += 1
        if any(t["name"] == task.name for r in records.values() for t in r.get("tasks", [])):
            rows.append({"task": task.name, "points": task.points, "passed": counts["PASS"], "failed": counts["FAIL"],
                         "not_implemented": counts["NOT IMPLEMENTED"], "other": counts["other"]})
    return rows


def causes(records):
    """The failure causes across the class, most students first: task, id, title, students, an example."""
    by_cause = defaultdict(list)
    titles, examples = {}, {}
    for student, record in records.items():
        for task in record.get("tasks", []) if record.get("graded") else []:
            cause = task.get("cause")
            if not cause or task["status"] == "NOT IMPLEMENTED":
                continue
            by_cause[(task["name"], cause["id"])].append(student)
            titles.setdefault(cause["id"], cause["title"])
            examples.setdefault(cause["id"], (student, task["message"]))
    rows = [{"task": task, "cause": cause_id, "title": titles[cause_id], "students": len(set(students)),
             "example_student": examples[cause_id][0], "example_message": examples[cause_id][1]}
            for (task, cause_id), students in by_cause.items()]
    return sorted(rows, key=lambda r: (-r["students"], r["task"], r["cause"]))


def coverage_summary(records):
    """The trained DCGAN across the class: digits covered per student, how many draw all ten, FID."""
    reports = {s: r["coverage"]["report"] for s, r in records.items()
               if r.get("graded") and r.get("coverage") and r["coverage"].get("report")}
    if not reports:
        return None
    covered = {s: rep.get("classes_covered") for s, rep in reports.items()}
    fids = [rep["fid"] for rep in reports.values() if isinstance(rep.get("fid"), (int, float))]
    return {"measured": len(reports), "all_ten": sum(1 for c in covered.values() if c == 10),
            "covered": Counter(covered.values()), "median_fid": round(statistics.median(fids), 1) if fids else None}


def needs_a_look(records):
    """(student, why) of submissions a human should look at: not graded, a limit hit, a notebook that did not
    run, an error of the grader."""
    rows = []
    for student, record in records.items():
        if not record.get("graded"):
            rows.append((student, f"could not be graded: {record.get('reason', '')}"))
            continue
        why = [f"limit hit: {', '.join(record['limits'])}"] if record.get("limits") else []
        if record.get("error"):
            why.append(f"grader: {record['error'][:160]}")
        if not record.get("notebook_ran", True):
            why.append("the notebook did not run to the end (its feedback page shows it as submitted)")
        if why:
            rows.append((student, "; ".join(why)))
    return rows


def submitted_modules(course, lab, students):
    """{student: (their submission folder, their module's path)} in course/submitted/."""
    return {s: (Path(course) / "submitted" / s, Path(course) / "submitted" / s / lab.assignment / module_path(lab))
            for s in students}


def exported_modules(folder, lab):
    """{submission: (its folder, path)} of `lab`'s module in each subfolder of `folder` (a Gradescope export, unzipped:
    one folder per submission, the module anywhere inside it; links are not followed)."""
    found = {}
    for entry in sorted(Path(folder).iterdir()):
        if entry.is_dir() and not entry.is_symlink() and valid_student_id(entry.name):
            matches = sorted(entry.rglob(f"{lab.module}.py"))
            if matches:
                found[entry.name] = (entry, matches[0])   # read_source refuses a path through a link
    return found


def similar_pairs(course, lab, modules, known=None, threshold=similarity.THRESHOLD):
    """(pairs, documents, common fingerprints, template) of the students' modules ({student: (folder, path)}) and the known
    solutions in the folder `known`. The template: the course's release, else this kit's stub."""
    released = Path(course) / "release" / lab.assignment / module_path(lab)
    template = similarity.Template(similarity.read_source(released if released.is_file() else lab.student_file))
    documents = []
    for student, (folder, path) in modules.items():
        source = similarity.read_source(path, within=folder)
        if source:
            documents.append(similarity.document(student, source, template))
    for path in sorted(Path(known).rglob("*")) if known else []:
        if path.suffix in (".py", ".ipynb") and (source := similarity.read_source(path, within=known)):
            # named by its path in KNOWN: solutions collected from GitHub are mostly all called gan_pytorch.py
            documents.append(similarity.document(f"known:{path.relative_to(known)}", source, template))
    readable = [d for d in documents if not d.error]
    pairs, common = similarity.compare(readable, threshold)
    return pairs, {d.name: d for d in documents}, common, template


# ---------------------------------------------------------------------------
# Writing it
# ---------------------------------------------------------------------------

def clusters(pairs):
    """The groups of names linked by similar pairs (connected components), largest first, each sorted."""
    group = {}
    for pair in pairs:
        merged = group.get(pair.a, {pair.a}) | group.get(pair.b, {pair.b})
        for name in merged:
            group[name] = merged
    unique = {id(g): g for g in group.values()}.values()
    return sorted((sorted(g) for g in unique), key=lambda g: (-len(g), g))


def histogram(values, bins, xlabel, title):
    """A bar chart as an inline PNG (data URI): the page needs no other file and no network."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 2.6), dpi=100)
    ax.hist(values, bins=bins, color="#3b6ea8", edgecolor="white")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("students")
    ax.set_title(title, fontsize=11)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return f'<img alt="{html.escape(title)}" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def as_text(cell):
    """A cell that may quote a student's code, kept from being read as a formula by a spreadsheet."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows(rows)


def page(lab, records, summary, tasks, cause_rows, coverage, attention, pairs, documents, common, template,
         threshold):
    e = html.escape
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(lab.title)}: the class</title>"
             f"<style>{PAGE_STYLE}</style></head><body>",
             f"<h1>{e(lab.title)}</h1><p class='note'>Assignment <code>{e(lab.assignment)}</code>: "
             + (f"{summary['graded']} submissions graded, {summary['not_graded']} not. Written answers are graded by "
                "hand and not counted here.</p>" if records else
                f"{len(documents)} submissions graded elsewhere: their similarity only.</p>")]
    if not records:
        return "\n".join(parts + similarity_section(pairs, documents, common, template, threshold)
                         + ["</body></html>"])
    parts.append("<h2>Scores</h2>")
    scores = [r["score"] for r in records.values() if r.get("graded")]
    if scores:
        top = summary["max_score"]
        parts.append(histogram(scores, bins=[x - 0.5 for x in range(int(top) + 2)], xlabel=f"score (of {top:g})",
                               title="Autograded scores"))
        parts.append(f"<p>mean {summary['mean']:g}, median {summary['median']:g}, lowest {summary['min']:g}, highest "
                     f"{summary['max']:g}; {summary['full_marks']} of {summary['graded']} with every autograded "
                     "point.</p>")
    parts.append("<h2>Each task</h2><table><tr><th>task</th><th>points</th><th>passed</th><th>failed</th>"
                 "<th>not implemented</th><th>other</th></tr>")
    for row in tasks:
        parts.append(f"<tr><td><code>{e(row['task'])}</code></td><td class=n>{row['points']}</td>"
                     f"<td class='n ok'>{row['passed']}</td><td class='n bad'>{row['failed']}</td>"
                     f"<td class=n>{row['not_implemented']}</td><td class=n>{row['other']}</td></tr>")
    parts.append("</table><h2>What went wrong most often</h2>")
    if cause_rows:
        widest = cause_rows[0]["students"]
        parts.append("<p class='note'>Each failure counted once per student, by the cause the checks diagnosed. "
                     "Open a row for an example message.</p><table><tr><th>students</th><th>task</th>"
                     "<th>cause</th></tr>")
        for row in cause_rows[:40]:
            bar = f"<span class=bar style='width:{max(4, int(120 * row['students'] / widest))}px'></span>"
            parts.append(f"<tr><td class=n>{row['students']} {bar}</td><td><code>{e(row['task'])}</code></td><td>"
                         f"<details><summary>{e(row['title'])}</summary><pre>{e(row['example_message'])}</pre>"
                         f"<span class=note>{e(row['cause'])}, e.g. {e(row['example_student'])}</span></details>"
                         "</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>No failures.</p>")
    if coverage:
        parts.append("<h2>The trained DCGAN</h2>")
        parts.append(histogram([c for c, n in coverage["covered"].items() for _ in range(n) if c is not None],
                               bins=[x - 0.5 for x in range(12)], xlabel="digits drawn (of 10)",
                               title="Digits each student's generator draws"))
        parts.append(f"<p>{coverage['all_ten']} of {coverage['measured']} generators draw all ten digits"
                     + (f"; median FID {coverage['median_fid']:g}" if coverage["median_fid"] is not None else "")
                     + ".</p>")
    parts.append("<h2>Look at these</h2>")
    if attention:
        parts.append("<table><tr><th>student</th><th>why</th></tr>" + "".join(
            f"<tr><td>{e(s)}</td><td>{e(why)}</td></tr>" for s, why in attention) + "</table>")
    else:
        parts.append("<p>Every submission was graded within its limits.</p>")
    parts += similarity_section(pairs, documents, common, template, threshold)
    parts.append("</body></html>")
    return "\n".join(parts)


def similarity_section(pairs, documents, common, template, threshold):
    """The page's similar pairs: groups, then the most similar pairs side by side, shared passages marked."""
    e = html.escape
    parts = []
    parts.append(f"<h2>Similar submissions</h2><p class='note'>Similarity is evidence for a human to look at, not a "
                 f"verdict. It counts what each student wrote beyond the released template, with the code that "
                 f"many submissions share (what the docstrings dictate) left out; pairs at {threshold:g} or more "
                 "are listed (tools/similarity.py says how, docs/grading.md how the threshold was set).</p>")
    unreadable = [d for d in documents.values() if d.error]
    if unreadable:
        parts.append("<p class=note>Not compared: " + ", ".join(f"{e(d.name)} ({e(d.error)})" for d in unreadable)
                     + "</p>")
    if not pairs:
        parts.append(f"<p>No pair of the {len(documents)} modules compared reaches {threshold:g}.</p>")
    groups = [g for g in clusters(pairs) if len(g) > 2]
    if groups:
        parts.append("<p>Groups in which each is similar to another:</p><ul>" + "".join(
            f"<li>{', '.join(e(name) for name in group)}</li>" for group in groups) + "</ul>")
    if len(pairs) > SHOWN_PAIRS:
        parts.append(f"<p class=note>The {SHOWN_PAIRS} most similar of {len(pairs)} pairs are shown; similarity.csv "
                     "lists them all.</p>")
    for pair in pairs[:SHOWN_PAIRS]:
        left, right = similarity.side_by_side(documents[pair.a], documents[pair.b], common, template)
        parts.append(f"<details open><summary><b>{e(pair.a)}</b> and <b>{e(pair.b)}</b>: similarity "
                     f"{pair.similarity:.2f} ({pair.evidence} shared passages)</summary><div class=pair>"
                     f"<div>{e(pair.a)}{left}</div><div>{e(pair.b)}{right}</div></div></details>")
    return parts


def report(course, lab, known=None, threshold=similarity.THRESHOLD, exported=None):
    """Write course/reports/<assignment>/ for `lab`; returns its folder, or None when there is nothing to report.

    `exported`: a folder of submissions graded elsewhere (a Gradescope export): similarity only, no grades.
    """
    course = Path(course)
    records = {} if exported else results_of(course, lab.assignment)
    modules = exported_modules(exported, lab) if exported else submitted_modules(
        course, lab, [s for s, r in records.items() if r.get("graded")])
    if not records and not modules:
        return None
    out = course / "reports" / lab.assignment
    out.mkdir(parents=True, exist_ok=True)
    summary, tasks, cause_rows = score_summary(records), task_table(records, lab), causes(records)
    coverage, attention = coverage_summary(records), needs_a_look(records)
    pairs, documents, common, template = similar_pairs(course, lab, modules, known, threshold)
    names = [t.name for t in lab.tasks if t.kind != "written"]
    write_csv(out / "scores.csv", ["student", "status", "score", "max_score", *names],
              [[s, "graded" if r.get("graded") else "could not be graded", r.get("score", ""), r.get("max_score", ""),
                *[next((t["earned"] for t in r.get("tasks", []) if t["name"] == n), "") for n in names]]
               for s, r in records.items()])
    write_csv(out / "causes.csv", ["task", "cause", "title", "students", "example_student", "example_message"],
              [[c["task"], c["cause"], as_text(c["title"]), c["students"], c["example_student"],
                as_text(c["example_message"])] for c in cause_rows])
    write_csv(out / "similarity.csv", ["student_a", "student_b", "similarity"],
              [[p.a, p.b, f"{p.similarity:.3f}"] for p in pairs])
    (out / "data.json").write_text(json.dumps({
        "assignment": lab.assignment, "scores": summary, "tasks": tasks, "causes": cause_rows,
        "coverage": coverage and {**coverage, "covered": {str(k): v for k, v in coverage["covered"].items()}},
        "look_at": [{"student": s, "why": w} for s, w in attention],
        "similar": [vars(p) for p in pairs], "threshold": threshold}, indent=1))
    (out / "index.html").write_text(page(lab, records, summary, tasks, cause_rows, coverage, attention, pairs,
                                         documents, common, template, threshold))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--course", default="course")
    parser.add_argument("--known", help="a folder of solutions collected elsewhere, compared with every student")
    parser.add_argument("--lab", choices=sorted(LABS), help="one lab (default: every lab graded)")
    parser.add_argument("--threshold", type=float, default=similarity.THRESHOLD)
    parser.add_argument("--exported", help="a folder of submissions graded elsewhere, one subfolder each (a Gradescope "
                                           "export, unzipped): their similarity only (with --lab)")
    args = parser.parse_args(argv)
    for name, folder in (("KNOWN", args.known), ("EXPORTED", args.exported)):
        if folder and not Path(folder).is_dir():
            print(f"error: {name}={folder} is not a folder", file=sys.stderr)
            return 2
    if args.exported and not args.lab:
        print("error: say which lab the exported submissions are for: LAB=<name>", file=sys.stderr)
        return 2
    written = [folder for lab in ([LABS[args.lab]] if args.lab else LABS.values())
               if (folder := report(args.course, lab, args.known, args.threshold, args.exported))]
    if not written:
        print(f"error: nothing graded in {args.course}/results: run `make autograde` first"
              + (f" (and no {args.lab}.py in {args.exported}'s subfolders)" if args.exported else ""), file=sys.stderr)
        return 1
    for folder in written:
        print(f"{folder / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
