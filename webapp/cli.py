"""`flask --app app ...` commands: users, processes, demo."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from engine.errors import HallError
from engine.identity import ROLES, Actor
from webapp import hall

# What the CLI acts as when it deploys: the operator at the console.
CONSOLE = Actor(id=None, username="console", roles=frozenset({"admin"}))


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

    @click.command("demo")
    def demo():
        """Demo users for every role and group, the five processes and a few sample cases."""
        from webapp.demo import load

        load(click.echo)

    app.cli.add_command(users)
    app.cli.add_command(processes)
    app.cli.add_command(demo)
