"""Enqueue a Sandfleet step from Python with the `bullmq` package: no Sandfleet library needed.

The step is a StepSpec v1 object (packages/contracts/schema/step-spec.v1.json), checked here with
`jsonschema` before it is added, as every producer should; the worker validates it again. The job
goes to queue `steps` with prefix `sandfleet`, job name `step`, job id = step id.

    pip install -r examples/python/requirements.txt
    python examples/python/enqueue.py echo hello from python
    pnpm sandfleet logs -f <printed id>       # or GET /v1/steps/<id>/events on the API
"""

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path

import jsonschema
from bullmq import Queue

SCHEMA = Path(__file__).resolve().parents[2] / "packages/contracts/schema/step-spec.v1.json"
REDIS_URL = os.environ.get("SANDFLEET_REDIS_URL", "redis://127.0.0.1:6379")


async def enqueue(spec: dict) -> str:
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(spec)
    queue = Queue("steps", {"connection": REDIS_URL, "prefix": "sandfleet"})
    try:
        # The same retry and retention options StepQueue (TypeScript) sets; `attempts` only
        # retries infrastructure failures, never a step that exited non-zero.
        await queue.add(
            "step",
            spec,
            {
                "jobId": spec["id"],
                "attempts": spec.get("attempts", 3),
                "backoff": {"type": "exponential", "delay": 1000},
                "removeOnComplete": {"age": 24 * 3600, "count": 10_000},
                "removeOnFail": {"age": 7 * 24 * 3600, "count": 50_000},
            },
        )
    finally:
        await queue.close()
    return spec["id"]


def main() -> None:
    argv = sys.argv[1:] or ["echo", "hello from python"]
    spec = {
        "id": str(uuid.uuid4()),  # the job id too; the same id twice is one step
        "agentId": os.environ.get("SANDFLEET_AGENT_ID", "default"),
        "command": argv,
        "labels": {"source": "python"},
        "limits": {"timeoutMs": 60_000},
    }
    print(asyncio.run(enqueue(spec)))


if __name__ == "__main__":
    main()
