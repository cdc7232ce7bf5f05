#!/usr/bin/env python3
"""Writes a deterministic corpus of IAM test suites for the runner benchmark against iam-simulate.

    python3 benches/peers/gen_iam_suites.py OUT_DIR [--files 12600] [--cases 30000] [--seed 26]

Each suite holds inline identity policies (and sometimes a resource policy) drawn from a vocabulary of
real actions, ARNs, policy variables and condition forms that both engines accept, and 1 to 4 cases.
Every case's `expect` starts as `Allow`; `--answers FILE` (policy-check's `test --format json` output)
rewrites each with the answer given there, so both runners are then timed on suites that pass.
"""
import argparse
import json
import os
import random

ACCOUNT = "123456789012"
USERS = ["alice", "bob", "carol", "dave"]
TEAMS = ["red", "blue", "green"]
SUBS = [f"us-east-1:{i:08x}-aaaa-4aaa-8aaa-{i:012x}" for i in range(1, 5)]
BUCKETS = ["photos", "notes", "logs"]
TABLES = ["Notes", "Orders"]
QUEUES = ["jobs", "events"]


def s3_object(rnd, user):
    return f"arn:aws:s3:::{rnd.choice(BUCKETS)}/{user}/{rnd.choice(['a.jpg', 'b.txt', 'c/d.json'])}"


def statement(rnd):
    """One statement: (statement, the request shapes it is about)."""
    kind = rnd.choice(["s3-user", "s3-list", "ddb-rows", "sqs-team", "s3-ip", "s3-deny-insecure",
                       "ddb-tag", "s3-notaction", "s3-like"])
    if kind == "s3-user":
        st = {"Effect": "Allow", "Action": rnd.choice([["s3:GetObject"], ["s3:GetObject", "s3:PutObject"], "s3:Get*"]),
              "Resource": f"arn:aws:s3:::{rnd.choice(BUCKETS)}/${{aws:username}}/*"}
    elif kind == "s3-list":
        st = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{rnd.choice(BUCKETS)}",
              "Condition": {"StringLike": {"s3:prefix": ["${aws:username}/*", "public/*"]}}}
    elif kind == "ddb-rows":
        st = {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
              "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{rnd.choice(TABLES)}",
              "Condition": {"ForAllValues:StringEquals": {
                  "dynamodb:LeadingKeys": ["${cognito-identity.amazonaws.com:sub}"]}}}
    elif kind == "sqs-team":
        st = {"Effect": "Allow", "Action": "sqs:SendMessage",
              "Resource": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{rnd.choice(QUEUES)}",
              "Condition": {"StringEquals": {"aws:PrincipalTag/team": rnd.choice(TEAMS)}}}
    elif kind == "s3-ip":
        st = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*",
              "Condition": {"IpAddress": {"aws:SourceIp": rnd.choice(["10.0.0.0/8", "192.0.2.0/24"])}}}
    elif kind == "s3-deny-insecure":
        st = {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
              "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    elif kind == "ddb-tag":
        st = {"Effect": "Allow", "Action": "dynamodb:GetItem",
              "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/*",
              "Condition": {"StringEquals": {"aws:PrincipalTag/team": rnd.choice(TEAMS)},
                            "NumericLessThanEquals": {"aws:MultiFactorAuthAge": "3600"}}}
    elif kind == "s3-notaction":
        st = {"Effect": "Deny", "NotAction": ["s3:GetObject", "s3:ListBucket"],
              "Resource": f"arn:aws:s3:::{rnd.choice(BUCKETS)}/*"}
    else:
        st = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::*/uploads/*",
              "Condition": {"StringLike": {"aws:PrincipalTag/team": "r*"}}}
    if rnd.random() < 0.3:
        st["Sid"] = f"S{rnd.randrange(1000)}"
    return st


def request(rnd):
    user = rnd.choice(USERS)
    sub = rnd.choice(SUBS)
    shape = rnd.choice(["get", "put", "list", "ddb", "sqs", "ddb-get"])
    ctx = {"aws:username": user, "aws:PrincipalTag/team": rnd.choice(TEAMS),
           "aws:SecureTransport": rnd.choice(["true", "true", "false"]),
           "aws:SourceIp": rnd.choice(["10.1.2.3", "192.0.2.7", "203.0.113.9"])}
    if shape in ("get", "put"):
        owner = user if rnd.random() < 0.7 else rnd.choice(USERS)
        action = "s3:GetObject" if shape == "get" else "s3:PutObject"
        resource = s3_object(rnd, owner) if rnd.random() < 0.8 else f"arn:aws:s3:::{rnd.choice(BUCKETS)}/uploads/x"
    elif shape == "list":
        action, resource = "s3:ListBucket", f"arn:aws:s3:::{rnd.choice(BUCKETS)}"
        ctx["s3:prefix"] = rnd.choice([f"{user}/", f"{rnd.choice(USERS)}/x", "public/a"])
    elif shape in ("ddb", "ddb-get"):
        action = "dynamodb:GetItem" if shape == "ddb-get" else rnd.choice(["dynamodb:PutItem", "dynamodb:Query"])
        resource = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{rnd.choice(TABLES)}"
        ctx["cognito-identity.amazonaws.com:sub"] = sub
        ctx["dynamodb:LeadingKeys"] = [sub if rnd.random() < 0.7 else rnd.choice(SUBS)]
        ctx["aws:MultiFactorAuthAge"] = str(rnd.choice([60, 7200]))
    else:
        action, resource = "sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:{rnd.choice(QUEUES)}"
    return {"principal": f"arn:aws:iam::{ACCOUNT}:user/{user}", "action": action, "resource": resource,
            "context": ctx}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--files", type=int, default=12600)
    ap.add_argument("--cases", type=int, default=30000)
    ap.add_argument("--seed", type=int, default=26)
    ap.add_argument("--answers")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    answers = {}
    if a.answers:
        for line in open(a.answers):
            line = line.strip()
            if line.startswith("{"):
                o = json.loads(line)
                if "suite" in o and "actual" in o:
                    answers[(os.path.basename(o["suite"]), o["name"])] = o["actual"]
    os.makedirs(a.out, exist_ok=True)
    # Spread the cases over the files: each file gets 1..4, totalling exactly --cases.
    counts = [1] * a.files
    extra = a.cases - a.files
    while extra > 0:
        i = rnd.randrange(a.files)
        if counts[i] < 4:
            counts[i] += 1
            extra -= 1
    for f in range(a.files):
        identity = {"Version": "2012-10-17", "Statement": [statement(rnd) for _ in range(rnd.randint(1, 3))]}
        suite = {"name": f"generated {f}", "identity": identity, "cases": []}
        name = f"g{f:05}.suite.json"
        for c in range(counts[f]):
            case_name = f"case {c}"
            suite["cases"].append({"name": case_name, "request": request(rnd),
                                   "expect": answers.get((name, case_name), "Allow")})
        with open(os.path.join(a.out, name), "w") as fh:
            json.dump(suite, fh, indent=1)


if __name__ == "__main__":
    main()
