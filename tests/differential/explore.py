"""Development aid: run the corpus on both daemons, dump the answers as JSON, print the report.

python -m tests.differential.explore OUT.json [ROW-REGEX]
"""

import json
import sys
from concurrent.futures import ThreadPoolExecutor

from tests.differential.daemons import both_daemons
from tests.differential.report import judge
from tests.differential.run import run

with both_daemons() as (ours, reference):
    with ThreadPoolExecutor(2) as pool:
        mine, theirs = pool.map(run, (ours.host, reference.host))
    roots = (str(ours.data_root), str(reference.base / "data"), str(reference.base / "exec"))
out = {"roots": roots}
for label, answers in (("ours", mine), ("ref", theirs)):
    out[label] = {
        k: {"status": a.status, "headers": a.headers, "body": a.body, "s": round(a.seconds, 2)}
        for k, a in answers.items()
    }
json.dump(out, open(sys.argv[1], "w"), indent=1, default=str)
report = judge(mine, theirs, roots)
print(report.summary())
