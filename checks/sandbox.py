"""Run a command with a student's code in it, out of reach of everything else (Linux, bubblewrap).

    Sandbox(read_only=[...], writable=[folder]).command(["python", ...])

The command sees a read-only view of the system's programs and libraries, of
Python and its packages, and of the folders given as `read_only`; it may write
only to `writable` (a private folder the grader made for this student) and to
an empty /tmp of its own. It has no network, its own process tree (nothing it
starts outlives it: --die-with-parent and a PID namespace), and the limits of
`Limits` on memory, processes, CPU time, the size of one file and of all it
writes: its /tmp is a size-limited tmpfs (in memory, gone when it ends), and a
watchdog kills it when its writable folder grows past a total or a count of
files (each file under the per-file cap could otherwise add up to gigabytes). Run as root, the
command drops to an unused user id of its own inside the sandbox, so the
process limit holds (root ignores it) and one sandbox's fork bomb cannot
use up another's processes.

Where bubblewrap is missing (macOS, Windows, a Linux without the package),
`available()` says so; `make autograde` then stops unless told to run unsafely.
"""

import itertools
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_UIDS = itertools.count(3_000_000 + (os.getpid() % 50_000) * 64)   # user ids no account uses
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install "
                "bubblewrap), or grade inside a container (see docs/grading.md, 'How the grades stay honest')")
SYSTEM = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/ld.so.cache", "/etc/ld.so.conf",
          "/etc/ld.so.conf.d", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/localtime", "/etc/fonts",
          "/etc/alternatives"]


@dataclass
class Limits:
    """What one sandboxed command may use (each hit ends it; the grader says which)."""
    memory_gb: float = 8.0          # address space per process (PyTorch maps ~3 GB just to start)
    processes: int = 256            # processes and threads of the sandbox's user
    cpu_seconds: int = 1800         # CPU time per process: a backstop behind the grader's wall-clock limits
    file_mb: int = 512              # the largest file it may write
    open_files: int = 1024
    tmp_mb: int = 512               # its /tmp, a tmpfs held in memory
    disk_mb: int = 1024             # all it may write to its writable folder together
    disk_files: int = 20_000        # files and folders there (a grader's own run writes a few dozen)

    def apply(self):
        """Set the limits on this process (called in the child before it starts the sandbox)."""
        gb = int(self.memory_gb * 2 ** 30)
        resource.setrlimit(resource.RLIMIT_AS, (gb, gb))
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_seconds, self.cpu_seconds))
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.file_mb * 2 ** 20, self.file_mb * 2 ** 20))
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, self.open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if os.geteuid() == 0:
            nproc = self.processes       # counted for the sandbox's own user id
        else:
            nproc = _own_processes() + self.processes   # counted with all of this user's processes
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def _own_processes():
    uid = os.getuid()
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                count += os.stat(f"/proc/{entry}").st_uid == uid
            except OSError:
                pass
    return count


def available():
    """True when bubblewrap can make a sandbox here (installed, and user namespaces allowed where needed)."""
    if sys.platform != "linux" or not shutil.which("bwrap"):
        return False
    probe = Sandbox(read_only=[], writable=None).command(["/bin/true"])
    try:
        return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@dataclass
class Sandbox:
    read_only: list = field(default_factory=list)   # folders or files the command may read (same path inside)
    writable: object = None                         # the one folder it may write (same path inside)
    cwd: object = None
    env: dict = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    uid: int = None                                 # run as root: the user id the command gets

    def prepare(self):
        """Pick the sandbox's user id and give it the writable folder (run as root; otherwise nothing to do)."""
        if os.geteuid() != 0:
            return
        self.uid = next(_UIDS)
        if self.writable is not None:
            for folder, dirs, files in os.walk(self.writable):
                for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                    os.lchown(name, self.uid, self.uid)

    def command(self, argv):
        """The bwrap command line that runs `argv` in this sandbox."""
        root = os.geteuid() == 0
        cmd = ["bwrap", "--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid", "--unshare-net",
               "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
        if not root:
            cmd.append("--unshare-user")
        cmd += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(self.limits.tmp_mb * 2 ** 20),
                "--tmpfs", "/tmp"]  # first: binds may lie in /tmp
        for path in SYSTEM:
            if os.path.islink(path):
                cmd += ["--symlink", os.readlink(path), path]
            elif os.path.exists(path):
                cmd += ["--ro-bind", path, path]
        made = {"/", "/tmp"}
        for path in _python_paths() + [str(Path(p).resolve()) for p in self.read_only]:
            cmd += _parents(path, made) + ["--ro-bind", path, path]
        if self.writable is not None:
            path = str(Path(self.writable).resolve())
            cmd += _parents(path, made) + ["--bind", path, path]
        cmd.append("--clearenv")
        for key, value in self.environment().items():
            cmd += ["--setenv", key, str(value)]
        if self.cwd is not None:
            cmd += ["--chdir", str(Path(self.cwd).resolve())]
        cmd.append("--")
        if root:   # drop to the sandbox's own user inside: no capabilities, and the process limit applies
            if self.uid is None:
                self.prepare()
            cmd += ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups", "--no-new-privs"]
        return cmd + [str(a) for a in argv]

    def environment(self):
        """The only environment variables the sandboxed command gets."""
        return {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8",
                "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg", "TMPDIR": "/tmp", **self.env}


@dataclass
class UserOnly(Sandbox):
    """The fallback where bubblewrap cannot make a sandbox (some containers forbid namespaces), run as root:
    the command runs as a user of its own, with a clean environment, the same resource limits and the same
    disk watchdog (its temporary files go to its writable folder), but sees the whole file system and the
    network. Keep secrets from it with file permissions (root only), as
    tools/gradescope.py does with the hidden reference answers. Not for a shared machine."""

    def command(self, argv):
        if os.geteuid() != 0:
            raise PermissionError("UserOnly needs root, to give the command a user of its own")
        if self.uid is None:
            self.prepare()
        env = self.environment()
        if self.writable is not None:   # the machine's /tmp is shared: temporary files go to its own folder
            private = Path(self.writable) / ".tmp"
            private.mkdir(exist_ok=True)
            os.lchown(private, self.uid, self.uid)
            env.update(TMPDIR=str(private), HOME=str(private))
        return (["env", "-i", *(f"{k}={v}" for k, v in env.items()),
                 "setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups", "--no-new-privs"]
                + [str(a) for a in argv])


def start(sandbox, argv, env=None, **popen):
    """Start `argv` in its own process group: in `sandbox` (prepared, under its limits, its writable folder
    watched), or, with None, as a plain child process with `env`. `popen`: more subprocess.Popen arguments
    (cwd, stdout, ...). The process's `disk_exceeded` says, once it is killed for it, what it wrote too much of."""
    if sandbox is None:
        proc = subprocess.Popen(argv, env=env, start_new_session=True, **popen)
    else:
        sandbox.prepare()
        proc = subprocess.Popen(sandbox.command(argv), start_new_session=True, preexec_fn=sandbox.limits.apply,
                                **popen)
    proc.disk_exceeded = None
    if sandbox is not None and sandbox.writable is not None:
        threading.Thread(target=_watch_disk, args=(proc, Path(sandbox.writable), sandbox.limits), daemon=True).start()
    return proc


WATCH_SECONDS = 0.2   # how often the writable folder is measured: what it can write in between is the overshoot


def _watch_disk(proc, folder, limits):
    """Kill `proc`'s process group as soon as `folder` holds more than limits.disk_mb or limits.disk_files."""
    while proc.poll() is None:
        used, count = disk_usage(folder, limits.disk_files + 1)
        if used > limits.disk_mb * 2 ** 20 or count > limits.disk_files:
            proc.disk_exceeded = (f"more than {limits.disk_mb} MB" if used > limits.disk_mb * 2 ** 20 else
                                  f"more than {limits.disk_files} files")
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            return
        time.sleep(WATCH_SECONDS)


def disk_usage(folder, max_entries):
    """(bytes on disk, entries) under `folder`, counting at most `max_entries` entries (a flood stops the count)."""
    used, count, pending = 0, 0, [str(folder)]
    while pending and count < max_entries:
        try:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    count += 1
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    used += info.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
        except OSError:
            continue
    return used, count


def remove(folder):
    """Delete a folder a sandbox wrote to, whatever permissions it left on it (nothing may stay on disk)."""
    def writable_again(function, path, _):
        os.chmod(os.path.dirname(path), 0o700)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
        function(path)
    if os.path.lexists(folder):
        handler = {"onexc" if sys.version_info >= (3, 12) else "onerror": writable_again}
        try:
            shutil.rmtree(folder, **handler)
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)


def stop(proc):
    """Kill a process started by start() with its whole process group (a sandbox's tree dies with it)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass


def _parents(path, made):
    """bwrap arguments that create the folders above `path`, readable by anyone (bwrap's own are not)."""
    args = []
    for parent in reversed(Path(path).parents):
        if str(parent) not in made:
            made.add(str(parent))
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def _python_paths():
    """The Python installation and its packages (a virtual environment and the Python it was made from)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent.parent)}
    paths |= {str(Path(p).resolve()) for p in list(paths)}
    # keep the outermost folders only
    ordered = sorted(paths, key=len)
    kept = []
    for p in ordered:
        if not any(p == k or p.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(p)
    return [p for p in kept if os.path.exists(p)]
