#!/usr/bin/env python3
"""pgcli against a server on 127.0.0.1:<port>, as a user works with it: a schema loaded with
`pgcli -f`; then the real pgcli started under a pseudo-terminal, showing its banner, running
a query and a backslash command and printing their results, completing a table, a column
and a table of a second schema when TAB is pressed after a prefix (the completed statements
run and print their rows), and exiting on \\q. Then its completion machinery in-process, as
the interactive session uses it: CompletionRefresher loads the metadata through PGExecute's
catalog queries (schemata, tables, columns, foreign keys, views, functions, datatypes), and
PGCompleter.get_completions answers for table names, columns, join conditions, functions
and types, in both schemas. Prints "pgcli ok" at its end; exits non-zero on the first
failure.

    python3 tests/frameworks/pgcli/run.py <port>
"""
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import pexpect
import psycopg
from pgcli.completion_refresher import CompletionRefresher
from pgcli.pgcompleter import PGCompleter
from pgcli.pgexecute import PGExecute
from pgspecial.main import PGSpecial
from prompt_toolkit.document import Document

HERE = os.path.dirname(os.path.abspath(__file__))


def fail(message):
    sys.exit(f"pgcli: {message}")


def check(got, expected, what):
    if got != expected:
        fail(f"{what}: expected {expected!r}, got {got!r}")


def pgcli_args(port):
    return [sys.executable, "-m", "pgcli", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-w", "pgcli"]


class Terminal:
    """pgcli under a pseudo-terminal, its output read with the escape sequences (colours,
    cursor moves) taken out, as a user reads the screen."""

    ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|[\r\x08]")

    def __init__(self, args, env):
        self.child = pexpect.spawn(args[0], args[1:], env=env, encoding="utf-8", dimensions=(40, 160))
        self.raw = ""
        self.seen = 0

    def send(self, keys):
        self.child.send(keys)

    def expect(self, patterns, what, timeout=30):
        """Waits for the first of `patterns` (regexes) after what was already matched;
        returns its index."""
        patterns = [re.compile(p) for p in ([patterns] if isinstance(patterns, str) else patterns)]
        deadline = time.monotonic() + timeout
        ended = False
        while True:
            screen = self.ESCAPES.sub("", self.raw)
            found = [(m.start(), i, m) for i, p in enumerate(patterns) if (m := p.search(screen, self.seen))]
            if found:
                _, index, match = min(found)
                self.seen = match.end()
                return index
            if ended or time.monotonic() > deadline:
                fail(f"{what}: never saw {[p.pattern for p in patterns]}; the terminal showed:\n{screen[-3000:]}")
            try:
                self.raw += self.child.read_nonblocking(4096, timeout=0.2)
            except pexpect.TIMEOUT:
                pass
            except pexpect.EOF:
                ended = True

    def exit_status(self):
        try:
            self.child.expect(pexpect.EOF, timeout=30)
        except pexpect.TIMEOUT:
            fail("pgcli did not exit on \\q")
        self.child.close()
        return self.child.exitstatus


def interactive(port, env):
    """The session a user has: banner, a query, \\dt, TAB completions, \\q."""
    term = Terminal(pgcli_args(port), env)
    term.expect("Server: PostgreSQL", "the start banner")
    term.expect(r"postgres@127\.0\.0\.1:pgcli>", "the prompt")

    term.send("SELECT name, email FROM users ORDER BY id\r")
    term.expect(r"\| ann +\| ann@example\.com +\|", "the query's first row")
    term.expect(r"\| bob +\| <null> +\|", "the query's second row")
    term.expect("SELECT 2", "the query's status")

    term.send("\\dt\r")
    term.expect(r"\| public +\| posts +\| table", "\\dt's posts")
    term.expect(r"\| public +\| users +\| table", "\\dt's users")

    # The metadata loads in a background thread after the prompt shows, and until it
    # lands TAB offers keywords only; so a completion is retried until its statement runs.
    def tab(before, after, row, what):
        for _ in range(20):
            # TAB selects the first completion (shown in the menu), Enter accepts it, and a
            # second Enter runs the statement, whose rows prove what was completed.
            term.send(before)
            time.sleep(0.3)
            term.send("\t")
            time.sleep(0.3)
            term.send(after + "\r")
            time.sleep(0.3)
            term.send("\r")
            if term.expect([row, "does not exist", "syntax error"], what) == 0:
                return
            time.sleep(0.5)
        fail(f"TAB never completed {what}")

    tab("SELECT title FROM pos", "", r"\| hello world", "the table posts")
    tab("SELECT title FROM posts WHERE user_i", " = 2", r"\| second post", "the column user_id")
    tab("SELECT amount FROM billing.inv", "", r"\| 12\.50", "billing's table invoices")

    term.send("\\q\r")
    check(term.exit_status(), 0, "pgcli's exit status after \\q")


def refreshed_completer(port):
    """The completer pgcli's background refresh builds, loaded through PGExecute."""
    executor = PGExecute("pgcli", "postgres", None, "127.0.0.1", port)
    refresher = CompletionRefresher()
    done = threading.Event()
    built = []
    refresher.refresh(executor, PGSpecial(), lambda completer: (built.append(completer), done.set()))
    if not done.wait(60) or not built:
        fail("the completion refresh did not finish")
    completer = built[0]
    if not isinstance(completer, PGCompleter):
        fail(f"the refresh built {completer!r}")
    return completer


def completion(port):
    completer = refreshed_completer(port)

    def complete(text, cursor):
        document = Document(text, len(text) if cursor is None else cursor)
        return [c.text for c in completer.get_completions(document, None)]

    def first(text, expected, cursor=None):
        """The completions pgcli lists first (the menu's top, what TAB picks)."""
        check(complete(text, cursor)[: len(expected)], expected, f"the first completions of {text!r}")

    def among(text, expected):
        got = complete(text, None)
        check([c for c in expected if c not in got], [], f"completions of {text!r} missing")

    # Table names after FROM, this project's among pgcli's schemata and catalog tables.
    among("SELECT * FROM ", ["posts", "users", "billing", "public", "active_users"])
    among("SELECT * FROM us", ["users"])
    # Columns of the table named later in the statement, the cursor after SELECT.
    first("SELECT  FROM users", ["email", "id", "name"], cursor=7)
    first("SELECT u. FROM users u", ["email", "id", "name"], cursor=9)
    first("SELECT * FROM posts WHERE ", ["id", "title", "user_id"])
    # Join conditions: the foreign key's first, then same-named integer columns.
    first("SELECT * FROM users u JOIN posts p ON ", ["p.user_id = u.id", "p.id = u.id"])
    first("SELECT * FROM posts p JOIN ", ["users ON users.id = p.user_id"])
    # The second schema: its tables, columns, and a join across schemas by its foreign key.
    first("SELECT * FROM billing.", ["invoices"])
    first("SELECT  FROM billing.invoices", ["amount", "id", "user_id"], cursor=7)
    first("SELECT * FROM billing.invoices i JOIN ", ["users ON users.id = i.user_id"])
    # A view's columns, a user-defined type.
    first("SELECT  FROM active_users", ["id", "name"], cursor=7)
    first("CREATE TABLE t (m mo", ["mood"])

    # The column types as `atttypid::regtype::text` names them (join suggestions favour
    # integer columns by them).
    users = completer.dbmetadata["tables"]["public"]["users"]
    types = {name: column.datatype for name, column in users.items()}
    check(types, {"id": "integer", "name": "text", "email": "character varying"}, "users' column types")

    # A function, called and (its signature) dropped.
    first("SELECT add_", ["add_tax()"])
    first("DROP FUNCTION add_", ["add_tax(amount numeric)"])


def main():
    port = sys.argv[1]
    with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS pgcli")
        admin.execute("CREATE DATABASE pgcli")
    with tempfile.TemporaryDirectory() as home:
        # pgcli keeps its config, history and log under XDG_CONFIG_HOME; a fresh one per run.
        # No pager and no cursor position requests, so the pty shows plain output at once.
        env = dict(os.environ, XDG_CONFIG_HOME=home, PAGER="cat", PROMPT_TOOLKIT_NO_CPR="1",
                   TERM="xterm", LESS="")
        loaded = subprocess.run(pgcli_args(port) + ["-f", os.path.join(HERE, "schema.sql")],
                                env=env, capture_output=True, text=True, timeout=120)
        # Each statement's status, in order (pgcli stops at an error). What a background
        # completion refresh, cut short by -f's exit, prints on stderr is not looked at.
        statuses = re.findall(r"^(CREATE \w+|INSERT 0 \d+)$", loaded.stdout, re.M)
        expected = ["CREATE TABLE"] * 2 + ["CREATE SCHEMA", "CREATE TABLE", "CREATE VIEW", "CREATE FUNCTION",
                                           "CREATE TYPE", "INSERT 0 2", "INSERT 0 2", "INSERT 0 1"]
        if loaded.returncode != 0 or statuses != expected:
            fail(f"pgcli -f schema.sql failed:\n{loaded.stdout}\n{loaded.stderr}")
        interactive(port, env)
    completion(port)
    print("pgcli ok")


if __name__ == "__main__":
    main()
