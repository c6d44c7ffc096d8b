"""`flask --app app ...` commands: users, processes, calendar, catalogue, demo, history."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from flask import Flask

from engine.errors import HallError
from engine.identity import ROLES, Actor
from webapp import hall

# What the CLI acts as when it deploys: the operator at the console.
CONSOLE = Actor(id=None, username="console", roles=frozenset({"admin"}))


def _days(value: str) -> list[dt.date]:
    """"2027-01-01,2027-02-05..2027-02-13" -> the dates."""
    out = []
    for part in _list(value):
        first, _, last = part.partition("..")
        a = dt.date.fromisoformat(first)
        b = dt.date.fromisoformat(last) if last else a
        if b < a:
            raise ValueError(f"{part}: the range ends before it starts")
        out.extend(a + dt.timedelta(days=i) for i in range((b - a).days + 1))
    return out


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _fail(e: HallError):
    msg = e.message
    for err in e.extra.get("errors") or []:
        if isinstance(err, dict) and "message" in err:
            msg += f"\n  - {err.get('element_id') or '(file)'}: {err['message']}"
    raise click.ClickException(msg)


def init_app(app: Flask) -> None:
    users = click.Group("users", help="Manage users.")
    processes = click.Group("processes", help="Deploy process diagrams.")

    @users.command("create")
    @click.argument("name")
    @click.option("--password", required=True)
    @click.option("--groups", default="", help="comma-separated group names, e.g. 工商,国税")
    @click.option("--roles", default="staff", help=f"comma-separated: {', '.join(ROLES)}")
    @click.option("--display-name", default=None)
    @click.option("--update", is_flag=True, help="change an existing user instead of failing")
    def create_user(name, password, groups, roles, display_name, update):
        """Create a user."""
        try:
            user = hall().identity.create_user(name, password, _list(groups), _list(roles), display_name, update)
        except HallError as e:
            _fail(e)
        click.echo(f"user {user.username}: roles {user.roles or '-'}; groups {', '.join(user.group_names) or '-'}")

    def _set_active(name: str, active: bool) -> None:
        try:
            hall().identity.set_active(name, active)
        except HallError as e:
            _fail(e)
        click.echo(f"user {name}: {'active' if active else 'deactivated'}")

    @users.command("deactivate")
    @click.argument("name")
    def deactivate_user(name):
        """Deactivate a user: every page session and API token of theirs ends at once."""
        _set_active(name, False)

    @users.command("activate")
    @click.argument("name")
    def activate_user(name):
        """Let a deactivated user sign in again."""
        _set_active(name, True)

    @users.command("list")
    def list_users():
        """List users with their roles and groups."""
        for u in hall().identity.users():
            click.echo(f"{u.username}\t{u.roles}\t{','.join(u.group_names)}")

    @processes.command("deploy")
    @click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
    @click.option("--process-id", default=None, help="which process, when the files define several")
    def deploy(files, process_id):
        """Deploy BPMN (and DMN) files as the next version of their process."""
        uploads = {Path(f).name: Path(f).read_bytes() for f in files}
        try:
            pv, created = hall().repository.deploy(uploads, CONSOLE, process_id)
        except HallError as e:
            _fail(e)
        click.echo(f"{pv.process_id} ({pv.name}): version {pv.version}" + ("" if created else " (unchanged)"))

    @processes.command("list")
    def list_processes():
        """List deployed processes."""
        for p in hall().repository.processes():
            click.echo(f"{p['process_id']}\tv{p['latest_version']}\t{p['name']}")

    catalogue = click.Group("catalogue", help="The service catalogue (事项目录) behind the 办事指南.")

    @catalogue.command("load")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    def load_catalogue(file):
        """Load items from a workbook (.xlsx: sheets 事项, 申请材料, 收费标准) or a JSON list, as
        `export` writes them; all or none. A changed item gets a new version, an unchanged one none."""
        from engine import catalogue_sheets
        from engine.catalogue import MAX_FILE_BYTES

        path = Path(file)
        if path.stat().st_size > MAX_FILE_BYTES:
            raise click.ClickException(f"{file}: larger than {MAX_FILE_BYTES // 2**20} MiB")
        try:
            if path.suffix.lower() == ".xlsx":
                with path.open("rb") as f:
                    items = catalogue_sheets.read(f)
            else:
                try:
                    items = json.loads(path.read_text(encoding="utf-8"))
                except ValueError as e:  # UnicodeDecodeError too
                    raise click.ClickException(f"{file}: not JSON ({e})") from None
            saved = hall().catalogue.load(CONSOLE, items)
        except HallError as e:
            _fail(e)
        for row, new in saved:
            click.echo(f"{row.code}: " + (f"version {row.version}" if new else f"unchanged (version {row.version})"))

    @catalogue.command("export")
    @click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False), default=None,
                  help="write a workbook to this file instead of JSON to standard output")
    def export_catalogue(xlsx):
        """Write the catalogue (each item's latest version): JSON to standard output, or a workbook."""
        from engine import catalogue_sheets
        from engine.catalogue import as_dict

        items = [as_dict(i) for i in hall().catalogue.items()]
        if xlsx:
            with open(xlsx, "wb") as f:
                catalogue_sheets.write(items, f)
            click.echo(f"{xlsx}: {len(items)} items")
            return
        click.echo(json.dumps([{**i, "saved_at": i["saved_at"].isoformat()} for i in items], ensure_ascii=False,
                              indent=1))

    @click.command("demo")
    @click.option("--history", type=click.FloatRange(0, 10), default=1.0, show_default=True,
                  help="a year of made-up history before now, as a share of the seed hall's year (0: none)")
    def demo(history):
        """Demo users for every role and group, the five processes, a few sample cases and a
        year of history before them (into an empty hall only)."""
        from webapp.demo import load

        try:
            load(click.echo, history)
        except HallError as e:
            _fail(e)

    history = click.Group("history", help="Made-up history for demos and measurements.")

    @history.command("generate")
    @click.option("--year", type=int, required=True, help="the year to fill (it must hold no cases yet)")
    @click.option("--cases", type=int, default=32_000, show_default=True, help="accepted (受理) cases in all")
    @click.option("--consultations", type=int, default=84_000, show_default=True)
    @click.option("--domestic", type=int, default=1_800, show_default=True, help="new domestic enterprises")
    @click.option("--foreign", type=int, default=90, show_default=True, help="new foreign enterprises")
    @click.option("--capital", type=float, default=400_000.0, show_default=True,
                  help="their registered capital in all, 万元")
    @click.option("--agency", type=int, default=280, show_default=True, help="green-channel agency cases (全程代理)")
    @click.option("--big-projects", type=int, default=50, show_default=True)
    @click.option("--exits", type=int, default=15, show_default=True, help="enterprise exits handled (迁出挽留)")
    @click.option("--visited", type=int, default=700, show_default=True, help="enterprises reached at a 回访")
    @click.option("--unreached", type=int, default=3, show_default=True, help="回访 that reached no one")
    @click.option("--complaints", type=int, default=24, show_default=True, help="意见建议 and 投诉")
    @click.option("--seed", type=int, default=2026, show_default=True)
    def generate_history(year, cases, consultations, domestic, foreign, capital, agency, big_projects, exits, visited,
                         unreached, complaints, seed):
        """Write a year of cases (completed, refused, withdrawn), their tasks, pauses, ratings and
        差评整改, consultations, new enterprises, complaints and 回访 straight into the database,
        deterministic from the seed."""
        from webapp.synthetic import Plan, generate

        plan = Plan(year, cases, consultations, domestic, foreign, capital, agency, big_projects, exits, seed=seed,
                    visited=visited, unreached=unreached, complaints=complaints)
        try:
            generate(hall(), plan, echo=click.echo)
        except HallError as e:
            _fail(e)

    cal = click.Group("calendar", help="The working-day calendar: public holidays, make-up days, closures.")

    @cal.command("show")
    @click.argument("year", type=int)
    def show_year(year):
        """Show a year's working days month by month, and the hall's overrides."""
        c = hall().deadlines.calendar()
        if not c.knows(year):
            click.echo(f"{year} is not entered yet: counted Monday to Friday less the statutory holidays until "
                       f"`flask calendar publish {year}`")
        for month in range(1, 13):
            day = dt.date(year, month, 1)
            marks = []
            while day.month == month:
                mark = "·" if c.is_workday(day) else "休"
                if day in c.overrides:
                    mark = "班" if c.overrides[day] else "闭"
                marks.append(mark)
                day += dt.timedelta(days=1)
            click.echo(f"{year}-{month:02d} {''.join(marks)}")
        click.echo("· working day  休 day off  班 make-up/extra working day (override)  闭 closed (override)")

    @cal.command("set")
    @click.argument("day")
    @click.option("--workday/--closed", "workday", default=None, help="a working day, or closed")
    @click.option("--clear", is_flag=True, help="remove the override")
    @click.option("--note", default=None)
    def set_day(day, workday, clear, note):
        """Override one day: --workday (调休) or --closed, or --clear."""
        if clear == (workday is not None):
            raise click.ClickException("give --workday, --closed or --clear")
        try:
            hall().deadlines.set_day(CONSOLE, dt.date.fromisoformat(day), None if clear else workday, note)
        except (ValueError, HallError) as e:
            raise click.ClickException(str(e)) from None
        click.echo(f"{day}: {'override removed' if clear else ('working day' if workday else 'closed')}")

    @cal.command("publish")
    @click.argument("year", type=int)
    @click.option("--holidays", required=True, help="days off, e.g. 2027-01-01,2027-02-05..2027-02-13")
    @click.option("--workdays", default="", help="make-up working days (调休), same form")
    @click.option("--note", default=None)
    def publish(year, holidays, workdays, note):
        """Enter a year's public holidays and make-up working days, as the State Council published them."""
        try:
            hall().deadlines.publish_year(CONSOLE, year, _days(holidays), _days(workdays), note)
        except (ValueError, HallError) as e:
            raise click.ClickException(str(e)) from None
        click.echo(f"{year}: published")

    app.cli.add_command(users)
    app.cli.add_command(processes)
    app.cli.add_command(cal)
    app.cli.add_command(demo)
    app.cli.add_command(catalogue)
    app.cli.add_command(history)
