#!/usr/bin/env python3
"""Writes a deterministic corpus of Cedar `run-tests` files for the runner benchmark against the cedar CLI.

    python3 benches/peers/gen_cedar_tests.py OUT_DIR [--files 1000] [--cases 10000] [--seed 26]

Every file is a JSON array of cases over fixtures/cedar-run-tests/policies.cedar's vocabulary (users in
teams, documents with owners, teams, an `archived` flag and sometimes a `reviewer`). Each case's
decision, reasons and error count are worked out here from the four policies' documented meaning (an
independent oracle: both runners must agree with it).
"""
import argparse
import json
import os
import random

USERS = ["alice", "bob", "carol", "dave", "erin", "frank"]
TEAMS = ["blue", "red", "green"]
DOCS = ["plan", "budget", "notes", "roadmap", "minutes"]


def ent(t, i):
    return {"__entity": {"type": t, "id": i}}


def case(rnd, n):
    team_of = {u: rnd.choice(TEAMS) for u in USERS}
    entities = [{"uid": {"type": "Team", "id": t}, "attrs": {}, "parents": []} for t in TEAMS]
    entities += [{"uid": {"type": "User", "id": u}, "attrs": {"team": ent("Team", team_of[u])}, "parents": []}
                 for u in USERS]
    doc = rnd.choice(DOCS)
    attrs = {"owner": ent("User", rnd.choice(USERS)), "team": ent("Team", rnd.choice(TEAMS)),
             "archived": rnd.random() < 0.3}
    if rnd.random() < 0.4:
        attrs["reviewer"] = ent("User", rnd.choice(USERS))
    entities.append({"uid": {"type": "Document", "id": doc}, "attrs": attrs, "parents": []})
    principal, action = rnd.choice(USERS), rnd.choice(["view", "edit"])
    decision, reason, errors = expected(principal, team_of[principal], action, attrs)
    return {
        "name": f"case {n}",
        "request": {"principal": f'User::"{principal}"', "action": f'Action::"{action}"',
                    "resource": f'Document::"{doc}"', "context": {}},
        "entities": entities,
        "decision": decision,
        "reason": reason,
        "num_errors": errors,
    }


def expected(principal, team, action, doc):
    """policies.cedar by hand: owner-access (view/edit by the owner), policy1 (view by the document's
    team), archived-read-only (forbid editing archived documents), policy3 (view by the reviewer; an
    error when the document has no reviewer)."""
    owner = doc["owner"]["__entity"]["id"]
    permits, errors = [], 0
    if owner == principal:
        permits.append("owner-access")
    if action == "view" and doc["team"]["__entity"]["id"] == team:
        permits.append("policy1")
    if action == "view":
        if "reviewer" not in doc:
            errors += 1
        elif doc["reviewer"]["__entity"]["id"] == principal:
            permits.append("policy3")
    if action == "edit" and doc["archived"]:
        return "deny", ["archived-read-only"], errors
    return ("allow", permits, errors) if permits else ("deny", [], errors)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--cases", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=26)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    per = a.cases // a.files
    n = 0
    for f in range(a.files):
        name = f"c{f:05}.tests.json"
        cases = []
        for _ in range(per + (1 if f < a.cases % a.files else 0)):
            cases.append(case(rnd, n))
            n += 1
        with open(os.path.join(a.out, name), "w") as fh:
            json.dump(cases, fh, indent=1)


if __name__ == "__main__":
    main()
