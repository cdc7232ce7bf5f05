"""The seed suites' cases (policies/*.suite.json) re-run through the Python API give exactly the CLI's
answers: `POLICY_CHECK_ANSWERS` is the output of `policy-check test --format json policies/` (the Rust test
that runs pytest writes it), one line a case. IAM, identity-pool and Verified Permissions cases are
compared; API Gateway gateway cases (status codes, the cache) are not part of the Python API and are
counted as skipped by name."""

import json
import os
import pathlib

import pytest

import policy_check as pc

ROOT = pathlib.Path(__file__).resolve().parents[3]


def cli_answers():
    path = os.environ.get("POLICY_CHECK_ANSWERS")
    if not path:
        pytest.fail("POLICY_CHECK_ANSWERS is not set: run through `cargo test --test python`")
    rows = [json.loads(line) for line in pathlib.Path(path).read_text().splitlines() if line.strip()]
    assert len(rows) > 50, "the CLI's answers look truncated"
    return rows


def token_text(base, value):
    p = base / value
    if len(value) < 1024 and p.is_file():
        return p.read_text().strip()
    return value


def python_answer(suite_path, suite, case):
    """The answer, in the CLI's words: `Allow`, `ImplicitDeny, role …`, `Error code`."""
    base = suite_path.parent
    try:
        if "cedar_store" in suite or "cedar_store" in case:
            store = pc.PolicyStore.from_dir(str(base / case.get("cedar_store", suite.get("cedar_store"))))
            req = dict(case["avp_request"])
            for k in ("identityToken", "accessToken"):
                if k in req:
                    req[k] = token_text(base, req[k])
            if "identityToken" in req or "accessToken" in req or "identity_claims" in case or "access_claims" in case:
                out = store.is_authorized_with_token(
                    req, now=case.get("now"),
                    identity_claims=case.get("identity_claims"), access_claims=case.get("access_claims"))
            else:
                out = store.is_authorized(req, now=case.get("now"))
            decision = {"ALLOW": "Allow"}.get(out["decision"])
            if decision is None:
                forbids = [p["policyId"] for p in out["determiningPolicies"]]
                decision = "ExplicitDeny" if forbids else "ImplicitDeny"
            ids = ", ".join(sorted(p["policyId"] for p in out["determiningPolicies"]))
            return f"{decision}, determining {ids}"
        if "identity_pool" in suite:
            v = suite.get("token_verifier", {})
            pool = pc.IdentityPool.from_file(
                str(base / suite["identity_pool"]),
                jwks=(base / v["jwks"]).read_text() if "jwks" in v else None,
                user_pool_id=v.get("user_pool_id"),
                client_id=v.get("client_id"),
            )
            kw = {"custom_role_arn": case.get("custom_role_arn"), "now": case.get("now")}
            if "token" in case:
                kw["id_token"] = token_text(base, case["token"])
            elif "claims" in case:
                kw["claims"] = case["claims"]
            else:
                kw["guest"] = bool(case.get("guest"))
            d = pool.decide(case["request"], **kw)
            role = d.get("role")
            return d["decision"] + (f", role {role}" if role else "")
        identity = case.get("identity", suite.get("identity", []))
        resource = case.get("resource", suite.get("resource"))
        ps = pc.PolicySet.from_files(
            identity=[str(base / p) for p in identity],
            resource=str(base / resource) if resource else None,
        )
        a = ps.evaluate(case["request"])
        sid = a.determining[0]["sid"] if a.determining else None
        return a.decision.value + (f", Sid {sid}" if sid else "")
    except pc.PolicyCheckError as e:
        return f"Error {e.code} {e.aws_code}"


def comparable(cli, ours):
    """The parts both give: the decision (or error), and the role, Sid or determining policies the CLI
    names."""
    head_cli, _, rest_cli = cli.partition(", ")
    head_ours, _, rest_ours = ours.partition(", ")
    if head_cli == "Error":
        return head_ours == "Error"
    if head_cli.split(" ")[0] == "Error" or head_ours.split(" ")[0] == "Error":
        # The CLI names the AWS error where AWS has one, else the registered code: either must be ours.
        return cli.split(" ")[0] == ours.split(" ")[0] and cli.split(" ", 1)[1] in ours.split(" ")[1:]
    if head_cli != head_ours:
        return False
    for part in rest_cli.split(", "):
        if part.startswith(("role ", "Sid ")) and part not in rest_ours:
            return False
        if part.startswith("determining"):
            want = sorted(x for x in part[len("determining"):].strip().split(", ") if x)
            got = sorted(x for x in rest_ours.partition("determining")[2].strip().split(", ") if x)
            if want != got:
                return False
    return True


def test_every_seed_case_gives_the_clis_answer():
    compared, skipped, wrong = 0, [], []
    suites = {}
    for row in cli_answers():
        path = ROOT / row["suite"]
        suite = suites.setdefault(path, json.loads(path.read_text()))
        case = next(c for c in suite["cases"] if c["name"] == row["name"])
        # API Gateway cases, and identity pools and policy stores read from CloudFormation templates, are
        # not part of the Python API (the package takes configurations and store directories); their
        # answers are the CLI's alone.
        from_template = "template" in suite or isinstance(suite.get("identity_pool"), dict) or isinstance(
            case.get("cedar_store", suite.get("cedar_store")), dict)
        # Property cases are proven by the reasoner (`policy-check check`), not part of the Python API.
        if "apigw" in suite or "http_request" in case or from_template or "property" in case:
            skipped.append(row["name"])
            continue
        ours = python_answer(path, suite, case)
        compared += 1
        if not comparable(row["actual"], ours):
            wrong.append(f"{row['suite']}: {row['name']}: CLI {row['actual']!r}, Python {ours!r}")
    assert not wrong, "\n".join(wrong)
    assert compared >= 60, f"only {compared} cases compared"
    print(f"{compared} cases compared, {len(skipped)} API Gateway, template and property cases not part of the Python API")
