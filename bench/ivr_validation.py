"""IVR validation time for growing drafts: the validation of a given commit ("before", loaded
from git) against the working tree's ("after"), same documents, same run (issue 14, item 3).

    .venv/bin/python bench/ivr_validation.py                       # before = 316c81a
    .venv/bin/python bench/ivr_validation.py --before <commit> --sizes 500 1000 2000 4000

A document of size n: the seed IVR plus n topics, n queues and a chain of n menu nodes (each
node: key 1 one level deeper, key 2 its topic, silence and wrong keys back up the chain). Prints
per size the document's YAML size, both times (best of --repeat), their ratio, and the load
average before and after. Needs no root and no Asterisk.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.codec import from_data, from_yaml, to_data, to_yaml  # noqa: E402
from ivr.document import IvrDocument  # noqa: E402
from ivr.validation import validate  # noqa: E402

Validate = Callable[[IvrDocument], list[Any]]


def before(commit: str) -> Validate:
    """ivr/validation.py as it was at ``commit``, imported under another name."""
    source = subprocess.run(
        ["git", "show", f"{commit}:ivr/validation.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    module = types.ModuleType("validation_before")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{commit}:ivr/validation.py", "exec"), module.__dict__)
    found: Validate = module.__dict__["validate"]
    return found


def document(n: int) -> IvrDocument:
    data = to_data(from_yaml((ROOT / "hotline-ivr.yaml").read_text(encoding="utf-8")))
    names = {lang: "Topic" for lang in data["languages"]}
    base_queue = data["queues"][0]
    nodes = data["menu"]["nodes"]
    nodes["root"]["options"]["7"] = {"action": "submenu", "node": "chain-0"}
    for i in range(n):
        data["queues"].append({**base_queue, "name": f"q-{i}"})
        data["topics"].append({"id": f"t-{i}", "names": names, "queue": f"q-{i}", "priority": 1})
        options: dict[str, Any] = {"2": {"action": "topic", "topic": f"t-{i}"}}
        if i + 1 < n:
            options["1"] = {"action": "submenu", "node": f"chain-{i + 1}"}
        nodes[f"chain-{i}"] = {
            "prompt": "welcome",
            "options": options,
            "timeout_seconds": 5,
            "tries": 1,
            "no_input": {"action": "back"},
            "invalid": {"action": "back"},
        }
    return from_data(data)


def best(check: Validate, doc: IvrDocument, repeat: int) -> tuple[float, int]:
    times, issues = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        issues = len(check(doc))
        times.append(time.perf_counter() - started)
    return min(times), issues


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", default="316c81a", help="the commit whose validation is 'before'")
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000, 2000, 4000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    old = before(args.before)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cpus {os.cpu_count()}")
    print(f"{'n':>6} {'yaml KB':>8} {'before s':>10} {'after s':>10} {'ratio':>8}  issues")
    for n in args.sizes:
        doc = document(n)
        size = len(to_yaml(doc).encode()) / 1024
        t_old, i_old = best(old, doc, args.repeat)
        t_new, i_new = best(validate, doc, args.repeat)
        same = "same" if i_old == i_new else f"DIFFER {i_old} vs {i_new}"
        print(f"{n:>6} {size:>8.0f} {t_old:>10.4f} {t_new:>10.4f} {t_old / t_new:>7.1f}x  {i_new} ({same})")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
