#!/usr/bin/env python3
"""An external-task worker for the hall, with nothing but the standard library's HTTP client:
it signs in, fetches and locks the work of a topic, does it, and completes it (or reports a
failure). The same calls as Camunda 7's external-task REST API.

    python scripts/external_worker.py --url http://127.0.0.1:5000 --user gongshang-sys \\
        --password hall123 --topic gongshang-registry --once

What "doing the work" means is `handle` below: here it makes up a registration number."""

from __future__ import annotations

import argparse
import json
import time
import urllib.error
import urllib.request
import zlib


def call(base: str, path: str, body=None, token: str | None = None):
    request = urllib.request.Request(base + "/api/v1" + path, method="POST",
                                     data=json.dumps(body or {}).encode(), headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
        return json.loads(text) if text else None


def handle(variables: dict) -> dict:
    """The work itself: another system's call goes here. Returns the variables to set."""
    company = (variables.get("company") or {}).get("value", "")
    return {"licence_no": {"value": f"9135{zlib.crc32(company.encode()):014d}", "type": "String"}}


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--url", default="http://127.0.0.1:5000")
    args.add_argument("--user", required=True)
    args.add_argument("--password", required=True)
    args.add_argument("--topic", required=True)
    args.add_argument("--worker", default="worker-1")
    args.add_argument("--once", action="store_true", help="one fetch, then stop")
    a = args.parse_args()
    token = call(a.url, "/auth/token", {"username": a.user, "password": a.password})["token"]
    while True:
        tasks = call(a.url, "/external-task/fetchAndLock", {
            "workerId": a.worker, "maxTasks": 10, "topics": [{"topicName": a.topic, "lockDuration": 60_000}]}, token)
        for task in tasks:
            try:
                done = handle(task["variables"])
            except Exception as e:  # the work failed: say so, and let it come back in a minute
                call(a.url, f"/external-task/{task['id']}/failure", {
                    "workerId": a.worker, "errorMessage": str(e)[:1000],
                    "retries": max(0, (task["retries"] if task["retries"] is not None else 3) - 1),
                    "retryTimeout": 60_000}, token)
                continue
            try:
                call(a.url, f"/external-task/{task['id']}/complete", {"workerId": a.worker, "variables": done}, token)
                print(f"completed {task['id']} of case {task['processInstanceId']}")
            except urllib.error.HTTPError as e:  # 409: its lock expired and another worker has it
                print(f"not completed {task['id']}: {e.code}")
        if a.once:
            return
        if not tasks:
            time.sleep(5)


if __name__ == "__main__":
    main()
