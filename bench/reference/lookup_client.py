#!/usr/bin/python3
"""Reference client: a station that knows a run's title and a step's title.

It does what a script written from ION's upload guide would do when the
station knows a serial number, not an id: for each file, find the run by
title, read its steps and pick the step by title, then the guide's three
steps (signed URL, PUT with the ETag, registration on the step's entity.id).
One file after another, a fresh connection per call, as the guide's example
(the GraphQL call and the queries of bench/reference/guide_client.py).

    ION_API_URL=http://127.0.0.1:PORT/graphql ION_TOKEN=... \\
        /usr/bin/python3 lookup_client.py --run-title 'SN900001 final test' \\
        --step-title 'Final test' FILE...

Prints one JSON line per file: {"path", "id", "runId", "runStepId", "entityId"}.
Exits 1 at the first failure (none or two runs, no such step, an HTTP error).
"""

import argparse
import json
import os
import sys

import httpx

from guide_client import PUT_TIMEOUT, REGISTER_MUTATION, URL_QUERY, Ion

# first: 2 so that a second match shows: the guide's script must refuse to
# guess between two runs of one title.
RUNS_QUERY = ("query($t: String!) { runs(filters: {title: {eq: $t}}, first: 2) "
              "{ edges { node { id title } } } }")
STEPS_QUERY = "query($id: Int!) { run(id: $id) { steps { id title entity { id } } } }"


def one(found, what):
    if len(found) != 1:
        raise RuntimeError("%d %s (want exactly 1)" % (len(found), what))
    return found[0]


def find_run_step(ion, run_title, step_title):
    """Two queries: the run by title, then its steps; answers (run id, step)."""
    edges = ion.gql(RUNS_QUERY, {"t": run_title})["runs"]["edges"]
    run_id = one([e["node"]["id"] for e in edges], "runs titled %r" % run_title)
    steps = ion.gql(STEPS_QUERY, {"id": run_id})["run"]["steps"]
    step = one([s for s in steps if s["title"] == step_title], "steps titled %r" % step_title)
    return run_id, step


def upload(ion, path, entity_id):
    """The guide's three steps: signed URL, PUT (capture the ETag), register."""
    name = os.path.basename(path)
    signed = ion.gql(URL_QUERY, {"f": name})["requestFileUploadUrl"]
    with open(path, "rb") as f:
        body = f.read()
    put = httpx.put(signed["uploadUrl"], content=body,
                    headers={"Content-Type": signed["contentType"]}, timeout=PUT_TIMEOUT)
    put.raise_for_status()
    created = ion.gql(REGISTER_MUTATION, {"input": {
        "filename": name, "s3Key": signed["s3Key"], "s3Etag": put.headers["ETag"].strip('"'),
        "entityId": entity_id, "validateUpload": True,
    }})["createFileAttachment"]["fileAttachment"]
    return created["id"]


def parse(argv):
    """The arguments, and an Ion for $ION_API_URL (or --endpoint) and $ION_TOKEN."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--endpoint", default=os.environ.get("ION_API_URL"),
                        help="GraphQL URL (default: $ION_API_URL)")
    for flag in ("--run-title", "--step-title"):
        parser.add_argument(flag, required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    if not args.endpoint or "ION_TOKEN" not in os.environ:
        parser.error("set ION_API_URL (or --endpoint) and ION_TOKEN")
    return args, Ion(args.endpoint, os.environ["ION_TOKEN"])


def main(argv):
    args, ion = parse(argv)
    for path in args.files:
        try:
            # Each file looks its target up again: the script knows titles, not ids.
            run_id, step = find_run_step(ion, args.run_title, args.step_title)
            entity_id = step["entity"]["id"]
            attachment_id = upload(ion, path, entity_id)
        except (httpx.HTTPError, RuntimeError, KeyError, TypeError, OSError) as err:
            # The URL of an HTTP error carries the presigned query: never print it.
            print("lookup_client: %s: %s" % (path, type(err).__name__ + ": " + str(err).split("?")[0]),
                  file=sys.stderr)
            return 1
        print(json.dumps({"path": path, "id": attachment_id, "runId": run_id,
                          "runStepId": step["id"], "entityId": entity_id}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
