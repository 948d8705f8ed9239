"""`fullfolj bench NAME` (or `all`): run benchmarks; see fullfolj/benchmarks/__init__.py."""

from __future__ import annotations

import importlib
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fullfolj.benchmarks import BENCHMARKS, MODULES, Options, Report

SMALL_PUPILS = 2000


class Command(BaseCommand):
    help = "Run a benchmark against its baseline and print its figures last."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", choices=[*BENCHMARKS, "all"])
        parser.add_argument("--pupils", type=int, help="size of the generated municipality")
        parser.add_argument("--repeat", type=int, default=3)
        parser.add_argument("--small", action="store_true", help=f"{SMALL_PUPILS} pupils")
        parser.add_argument(
            "--only",
            type=lambda text: [name for name in text.split(",") if name],
            default=[],
            help="time only these paths (comma-separated; screening: full and floor always run) "
            "or pages",
        )
        parser.add_argument(
            "--demo",
            action="store_true",
            help="pages: time the demo database (the settings' database, as `fullfolj demo` "
            "built it) instead of a generated municipality",
        )
        parser.add_argument(
            "--pg-database",
            help="screening: the PostgreSQL database of the lesson table (default "
            "fullfolj_screenbench); import: the database imported into (default "
            "fullfolj_importbench_N); dashboard: its copy of the data (fullfolj_dashbench_N); "
            "pages: the database of the generated municipality (default fullfolj_attbench_N)",
        )
        parser.add_argument(
            "--rows",
            type=int,
            help="import: rows in the generated CSV file (default 1,000,000; --small 20,000)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        names = BENCHMARKS if options["name"] == "all" else (options["name"],)
        for name in names:
            path = f"fullfolj.benchmarks.{MODULES.get(name, name)}"
            try:
                module = importlib.import_module(path)
            except ModuleNotFoundError as error:
                if error.name != path:
                    raise
                if options["name"] != "all":
                    raise CommandError(
                        f"bench {name}: fullfolj/benchmarks/{name}.py is missing."
                    ) from None
                self.stderr.write(f"{name}: skipped, fullfolj/benchmarks/{name}.py is missing.")
                continue
            pupils = options["pupils"] or (
                SMALL_PUPILS if options["small"] else module.DEFAULT_PUPILS
            )
            if pupils < 50:
                raise CommandError("--pupils must be at least 50.")
            report = Report(name, self.stdout)
            module.run(
                Options(
                    pupils=pupils,
                    repeat=options["repeat"],
                    small=options["small"],
                    extra={
                        key: options[key]
                        for key in ("only", "pg_database", "demo", "rows")
                        if options[key]
                    },
                ),
                report,
            )
            report.finish()
