#!/usr/bin/env python3
"""Django 5 against a server on 127.0.0.1:<port>, as a project uses it: makemigrations and
migrate of django.contrib and of an app (foreign keys, a many-to-many through a model,
indexes, unique_together, a CheckConstraint, JSONField, UUIDField, a 24-digit
DecimalField, DateTimeField with USE_TZ), a later migration that adds, alters and removes
fields and constraints, the ORM (shop/management/commands/exercise.py), inspectdb,
sqlsequencereset and flush. Prints "django ok" at its end; exits non-zero on the first
failure. Nothing in the project knows the server is litescale.

    python3 tests/frameworks/django/run.py <port>
"""
import os
import shutil
import subprocess
import sys
import tempfile

import psycopg

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    port = sys.argv[1]
    with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS django")
        admin.execute("CREATE DATABASE django")
    with tempfile.TemporaryDirectory() as work:
        project = os.path.join(work, "project")
        shutil.copytree(HERE, project, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
        env = dict(os.environ, DB_PORT=port, PYTHONPATH=project)

        def manage(*args, expect=None):
            done = subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=project, env=env, capture_output=True, text=True, timeout=300,
            )
            if done.returncode != 0 or (expect and expect not in done.stdout):
                sys.exit(f"django: manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
            return done.stdout

        def models(version):
            shutil.copy(os.path.join(project, "shop", f"models_{version}.py"),
                        os.path.join(project, "shop", "models.py"))

        models("v1")
        manage("makemigrations", "shop", expect="0001_initial.py")
        manage("migrate", expect="Applying shop.0001_initial... OK")
        models("v2")
        manage("makemigrations", "shop", expect="0002_")
        manage("migrate", expect="Applying shop.0002_")
        manage("makemigrations", "--check", "--dry-run")
        manage("exercise", expect="exercise ok")

        inspected = manage("inspectdb", "shop_customer", "shop_line")
        for text in ("class ShopCustomer(models.Model):", "email = models.CharField(unique=True, max_length=254)",
                     "profile = models.JSONField()", "vip = models.BooleanField()",
                     "order = models.ForeignKey('ShopOrder', models.DO_NOTHING)"):
            if text not in inspected:
                sys.exit(f"django: inspectdb lacks {text!r}:\n{inspected}")

        reset = manage("sqlsequencereset", "shop", expect="setval(pg_get_serial_sequence")
        with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=django", autocommit=True) as db:
            db.execute(reset)
            manage("flush", "--no-input")
            left = db.execute("SELECT count(*) FROM shop_customer").fetchone()[0]
            if left != 0:
                sys.exit(f"django: flush left {left} customers")
    print("django ok")


if __name__ == "__main__":
    main()
