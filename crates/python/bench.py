"""Benchmarks of the Python package (not a test: it asserts nothing about time). Medians of 5 rounds.

    python crates/python/bench.py            # from the repository root, with the wheel installed

- `PolicySet.evaluate` on seed 000's row-level DynamoDB policy (the CLI's ~100 ns core plus the crossing);
- `PolicyStore.is_authorized` on seed 003's store, and `cedarpy.is_authorized` (if installed) on the same
  Cedar policies and request: the Cedar engine everyone else in Python uses.
"""

import json
import pathlib
import statistics
import time

import policy_check as pc

ROOT = pathlib.Path(__file__).resolve().parents[2]


def median_us(f, n):
    rounds = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n):
            f()
        rounds.append((time.perf_counter() - t) / n * 1e6)
    return statistics.median(rounds)


def main():
    ps = pc.PolicySet.from_files(identity=[str(ROOT / "policies/cognito-groups-dynamodb/row-level.json")])
    sub = "us-east-1:11111111-aaaa-4aaa-8aaa-111111111111"
    req = {
        "action": "dynamodb:GetItem",
        "resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Notes",
        "context": {"cognito-identity.amazonaws.com:sub": sub, "dynamodb:LeadingKeys": [sub]},
    }
    assert ps.evaluate(req).decision is pc.Decision.ALLOW
    iam = median_us(lambda: ps.evaluate(req), 200_000)
    print(f"PolicySet.evaluate (row-level, Allow): {iam:.2f} µs")
    try:
        import cedarpy
    except ImportError:
        cedarpy = None
    if cedarpy is not None:
        # The row-level rule in Cedar: the leading keys are exactly the caller's identity id.
        rule = 'permit(principal, action == Action::"GetItem", resource == Table::"Notes") when { context.leadingKeys == [context.sub] };'
        creq = {"principal": 'User::"u"', "action": 'Action::"GetItem"', "resource": 'Table::"Notes"',
                "context": {"sub": sub, "leadingKeys": [sub]}}
        assert str(cedarpy.is_authorized(creq, rule, []).decision) == "Decision.Allow"
        c = median_us(lambda: cedarpy.is_authorized(creq, rule, []), 5_000)
        print(f"cedarpy.is_authorized (the equivalent Cedar rule): {c:.2f} µs; ratio {c / iam:.1f}x")

    store_dir = ROOT / "policies/photo-app-avp/store-location"
    store = pc.PolicyStore.from_dir(str(store_dir))
    avp = {
        "principal": {"entityType": "User", "entityId": "alice"},
        "action": {"actionType": "Action", "actionId": "update"},
        "resource": {"entityType": "Photo", "entityId": "VacationPhoto94.jpg"},
    }
    assert store.is_authorized(avp)["decision"] == "ALLOW"
    ours = median_us(lambda: store.is_authorized(avp), 20_000)
    print(f"PolicyStore.is_authorized (seed 003): {ours:.2f} µs")
    if cedarpy is None:
        print("cedarpy is not installed: pip install cedarpy to compare")
        return
    policies = "\n".join(p.read_text() for p in sorted(store_dir.glob("*.cedar")))
    request = {"principal": 'User::"alice"', "action": 'Action::"update"', "resource": 'Photo::"VacationPhoto94.jpg"', "context": {}}
    r = cedarpy.is_authorized(request, policies, [])
    print(f"cedarpy answer: {r.decision}")
    theirs = median_us(lambda: cedarpy.is_authorized(request, policies, []), 2_000)
    print(f"cedarpy.is_authorized (same policies and request): {theirs:.2f} µs; ratio {theirs / ours:.1f}x")


if __name__ == "__main__":
    main()
