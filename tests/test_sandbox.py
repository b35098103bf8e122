"""The sandbox students' code runs in while autograding (checks/sandbox.py), and what the grader refuses without it."""

import sqlite3
import subprocess
import sys

import pytest

from checks.sandbox import Limits, Sandbox, available
from tools import autograde

needs_bwrap = pytest.mark.skipif(not available(), reason="bubblewrap is not available here")


def _run(sandbox, code):
    command = sandbox.command([sys.executable, "-c", code])
    return subprocess.run(command, capture_output=True, text=True, timeout=120, preexec_fn=sandbox.limits.apply)


@needs_bwrap
def test_a_sandbox_sees_only_what_it_is_given(tmp_path):
    secret, readable, writable = tmp_path / "secret.txt", tmp_path / "kit", tmp_path / "work"
    secret.write_text("hidden answers")
    readable.mkdir()
    (readable / "public.txt").write_text("public")
    writable.mkdir()
    sandbox = Sandbox(read_only=[readable], writable=writable, cwd=writable)
    sandbox.prepare()
    code = f"""
import os, socket
print("secret", os.path.exists({str(secret)!r}))
print("public", open({str(readable / "public.txt")!r}).read())
open("mine.txt", "w").write("ok")
try:
    open({str(readable / "public.txt")!r}, "a").write("changed")
    print("wrote the read-only file")
except OSError:
    print("read-only")
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2)
    print("network")
except OSError:
    print("no network")
"""
    out = _run(sandbox, code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["secret", "False", "public", "public", "read-only", "no", "network"], out.stdout
    assert (writable / "mine.txt").read_text() == "ok" and (readable / "public.txt").read_text() == "public"


@needs_bwrap
def test_a_sandbox_enforces_its_memory_limit(tmp_path):
    sandbox = Sandbox(writable=tmp_path, cwd=tmp_path, limits=Limits(memory_gb=1))
    out = _run(sandbox, "x = bytearray(2 * 2 ** 30)")
    assert out.returncode != 0 and "MemoryError" in out.stderr


def test_without_bubblewrap_autograde_stops_and_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(autograde, "available", lambda: False)
    (tmp_path / "submitted").mkdir()
    with pytest.raises(SystemExit, match="apt-get install bubblewrap.*--unsafe-no-sandbox"):
        autograde.autograde(tmp_path)


def test_a_gradebook_with_views_or_triggers_is_not_read(tmp_path):
    """The sandboxed notebook run leaves a scratch gradebook; a view or trigger in it could run without end."""
    plain, trapped = tmp_path / "plain.db", tmp_path / "trapped.db"
    for path in (plain, trapped):
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE grade (id INTEGER, auto_score REAL)")
    with sqlite3.connect(trapped) as db:
        db.execute("CREATE VIEW forever AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                   "SELECT i FROM n")
    assert autograde._plain_tables(plain) and not autograde._plain_tables(trapped)


@pytest.mark.parametrize("name, usable", [("ada", True), ("s.lee+2@uni", True), ("--help", False), ("*", False),
                                          ("a/b", False), ("..", False), ("-x", False), ("a b", False)])
def test_student_ids_are_plain_names(name, usable):
    assert autograde.valid_student_id(name) == usable
