#!/usr/bin/python3
"""Reference client: ION's upload guide, end-to-end example, step for step.

It does what the guide's Python example does, in the same order and with the
same library (httpx, a fresh connection per call, the whole file read into
memory, one file after another): request a signed URL, PUT the bytes, read the
run step's entity.id, register the attachment with validateUpload. The
benchmarks measure ion-upload against it, and the sandbox's specs use it to
show that the guide's own flow works against the sandbox.

    ION_API_URL=http://127.0.0.1:PORT/graphql ION_TOKEN=... \\
        /usr/bin/python3 guide_client.py --run-step 1 FILE...

Prints one JSON line per file: {"path", "id", "s3Key", "etag", "entityId"}.
Exits 1 at the first failure, as the guide's example would raise.
"""

import argparse
import json
import os
import sys

import httpx

# The guide's timeouts: 30 s for GraphQL, 120 s for the PUT.
GRAPHQL_TIMEOUT = 30.0
PUT_TIMEOUT = 120.0

URL_QUERY = ("query($f: String!) { requestFileUploadUrl(filename: $f) "
             "{ uploadUrl s3Key contentType } }")
ENTITY_QUERY = "query($id: Int!) { runStep(id: $id) { entity { id } } }"
REGISTER_MUTATION = """mutation($input: CreateFileAttachmentInput!) {
  createFileAttachment(input: $input) { fileAttachment { id filename } }
}"""


class Ion:
    def __init__(self, endpoint, token):
        self.endpoint = endpoint
        self.token = token

    def gql(self, query, variables):
        """One GraphQL call; HTTP errors and errors[] both raise."""
        response = httpx.post(
            self.endpoint,
            headers={"Authorization": "Bearer " + self.token},
            json={"query": query, "variables": variables},
            timeout=GRAPHQL_TIMEOUT,
        )
        response.raise_for_status()
        payload = response.json()
        if "errors" in payload:
            raise RuntimeError("GraphQL errors: %s" % [e.get("message") for e in payload["errors"]])
        return payload["data"]

    def upload_to_run_step(self, run_step_id, path):
        name = os.path.basename(path)

        signed = self.gql(URL_QUERY, {"f": name})["requestFileUploadUrl"]

        # The whole file in memory, exactly as the guide's example does.
        with open(path, "rb") as f:
            body = f.read()
        put = httpx.put(signed["uploadUrl"], content=body,
                        headers={"Content-Type": signed["contentType"]},
                        timeout=PUT_TIMEOUT)
        put.raise_for_status()
        etag = put.headers["ETag"].strip('"')

        entity_id = self.gql(ENTITY_QUERY, {"id": run_step_id})["runStep"]["entity"]["id"]

        created = self.gql(REGISTER_MUTATION, {"input": {
            "filename": name,
            "s3Key": signed["s3Key"],
            "s3Etag": etag,
            "entityId": entity_id,
            "validateUpload": True,
        }})["createFileAttachment"]["fileAttachment"]
        return {"path": path, "id": created["id"], "s3Key": signed["s3Key"],
                "etag": etag, "entityId": entity_id}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--endpoint", default=os.environ.get("ION_API_URL"),
                        help="GraphQL URL (default: $ION_API_URL)")
    parser.add_argument("--run-step", type=int, required=True, help="run step id (not its entity id)")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    token = os.environ.get("ION_TOKEN")
    if not args.endpoint or not token:
        parser.error("set ION_API_URL (or --endpoint) and ION_TOKEN")

    ion = Ion(args.endpoint, token)
    for path in args.files:
        try:
            result = ion.upload_to_run_step(args.run_step, path)
        except (httpx.HTTPError, RuntimeError, KeyError, OSError) as err:
            # The URL of an HTTP error carries the presigned query: never print it.
            print("guide_client: %s: %s" % (path, type(err).__name__ + ": " + str(err).split("?")[0]),
                  file=sys.stderr)
            return 1
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
