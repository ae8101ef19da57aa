"""Starts `treem` processes by forking one that has already imported the bot.

Importing the bot is about 1.5 s of CPU, most of what a `treem run` start costs; a test
that starts instances together twenty times over would spend minutes importing. This
process imports once, then forks a child per request: each child is a separate process
with its own connections, environment, working directory and log file, running the same
`bot.cli.main` as the `treem` command, from the first line after the imports. Children
asked for together start within a millisecond of each other.

Protocol (JSON lines): stdin `{"id": n, "argv": [...], "env": {...}, "cwd": "...",
"log": "..."}` → stdout `{"id": n, "pid": p}`; when a child ends, `{"pid": p, "code": c,
"cpu": seconds}` (a negative code: killed by that signal). End of stdin: the zygote kills the
children still running and exits.

    python -m tests.e2e.zygote
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import sys
import traceback

import bot.cli  # the imports every child shares (the reason this process exists)
import bot.runner
import bot.startup
import storage.migrate  # noqa: F401


def _child(request: dict) -> None:
    """In the forked child: become the requested `treem` process, never return."""
    code = 1
    try:
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        code = bot.cli.main(request["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - the child must end with a code, whatever happened
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code or 0)


def _say(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _reap(children: set[int]) -> None:
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        _say({"pid": pid, "code": os.waitstatus_to_exitcode(status),
              "cpu": usage.ru_utime + usage.ru_stime})


def main() -> None:
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the selector through the pipe
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "stdin")
    selector.register(wake_read, selectors.EVENT_READ, "child")
    pending = b""
    children: set[int] = set()
    while True:
        for key, _events in selector.select():
            if key.data == "child":
                os.read(wake_read, 4096)
                _reap(children)
                continue
            chunk = os.read(sys.stdin.fileno(), 65536)
            if not chunk:  # the test is over (or died): no bot of its may outlive it
                for pid in children:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                return
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                pid = os.fork()  # stdout's buffer is empty: _say flushes every line
                if pid == 0:
                    signal.set_wakeup_fd(-1)
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    selector.close()
                    os.close(wake_read)
                    os.close(wake_write)
                    _child(request)
                children.add(pid)
                _say({"id": request["id"], "pid": pid})


if __name__ == "__main__":
    main()
