"""The Python API itself: decisions, errors with codes and positions, tokens, threads, memory."""

import concurrent.futures
import json
import pathlib
import resource
import sys

import pytest

import policy_check as pc

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROW = ROOT / "policies/cognito-groups-dynamodb/row-level.json"
SUB = "us-east-1:11111111-aaaa-4aaa-8aaa-111111111111"


def own_row(sub=SUB, key=SUB, action="dynamodb:GetItem"):
    return {
        "action": action,
        "resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Notes",
        "context": {"cognito-identity.amazonaws.com:sub": sub, "dynamodb:LeadingKeys": [key]},
    }


@pytest.fixture(scope="module")
def rows():
    return pc.PolicySet.from_files(identity=[str(ROW)])


def test_decisions_are_the_enum(rows):
    a = rows.evaluate(own_row())
    assert a.decision is pc.Decision.ALLOW and a.decision.allowed
    assert a.determining[0]["policy"] == str(ROW)
    assert (a.determining[0]["line"], a.determining[0]["column"]) == (4, 9)
    other = rows.evaluate(own_row(key="us-east-1:22222222-bbbb-4bbb-8bbb-222222222222"))
    assert other.decision is pc.Decision.IMPLICIT_DENY
    assert other.blocked_by == "identity policies"
    assert "decision: ImplicitDeny" in other.explain()


class Mapping(dict):
    """A dict subclass: read by the general request reader, not the plain-dict fast path."""


@pytest.mark.parametrize(
    "request_",
    [
        own_row(),
        own_row(key="someone-else"),
        own_row(action="dynamodb:DeleteTable"),
        dict(own_row(), principal="arn:aws:sts::123456789012:assumed-role/r/s"),
        dict(own_row(), context={"cognito-identity.amazonaws.com:sub": SUB}),
    ],
)
def test_both_request_readers_give_the_same_decision(rows, request_):
    plain = rows.evaluate(request_)
    general = rows.evaluate(Mapping({k: Mapping(v) if isinstance(v, dict) else v for k, v in request_.items()}))
    assert plain.decision is general.decision
    assert plain.determining == general.determining


def test_an_explicit_deny_names_its_statement():
    deny = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]})
    ps = pc.PolicySet.from_json(identity=[deny])
    a = ps.evaluate({"action": "s3:DeleteObject", "resource": "arn:aws:s3:::b/k"})
    assert a.decision is pc.Decision.EXPLICIT_DENY
    assert a.determining[0]["sid"] == "NoDelete"
    assert a.determining[0]["policy"] == "identity[0]"


@pytest.mark.parametrize(
    "policy, code, line, column",
    [
        ('{"Version": "2012-10-17", "Statement": [{"Effect": "Alow", "Action": "s3:*", "Resource": "*"}]}', "iam::effect", 1, 52),
        ('{"Version": "2012-10-17",\n "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",}]}', "json::trailing-comma", 2, 69),
        ('{"Version": "2012-10-17", "Statement": [', None, 1, None),
    ],
)
def test_a_policy_that_does_not_load_is_located(policy, code, line, column):
    with pytest.raises(pc.PolicyCheckError) as e:
        pc.PolicySet.from_json(identity=[policy])
    if code:
        assert e.value.code == code
    assert e.value.file == "identity[0]"
    assert e.value.line == line
    if column:
        assert e.value.column == column
    assert e.value.message


@pytest.mark.parametrize(
    "request_, why",
    [
        ({"resource": "arn:aws:s3:::b"}, "missing field `action`"),
        ({"action": 5, "resource": "arn:aws:s3:::b"}, "expected a string"),
        ({"action": "s3:Get*", "resource": "arn:aws:s3:::b"}, "one concrete"),
        ({"action": "s3:GetObject", "resource": "arn:aws:s3:::b", "colour": "red"}, "unknown field"),
        ({"action": "s3:GetObject", "resource": "arn:aws:s3:::b", "context": {"k": {"nested": 1}}}, "unsupported value"),
        ({"action": "s3:GetObject\udc80", "resource": "arn:aws:s3:::b"}, "not JSON-like"),
        ({1: "s3:GetObject"}, "not a string"),
        ("not a dict", "must be a JSON object"),
    ],
)
def test_bad_requests_raise_with_a_code_never_allow(rows, request_, why):
    with pytest.raises(pc.PolicyCheckError) as e:
        rows.evaluate(request_)
    assert e.value.code == "python::request"
    assert why in e.value.message, e.value.message


def test_a_panic_is_an_exception_not_a_crash():
    with pytest.raises(BaseException) as e:
        pc._native.panic_for_tests()
    assert "deliberate panic" in str(e.value)
    # The interpreter goes on.
    assert pc.Decision.ALLOW.value == "Allow"


def test_threads_share_one_policy_set(rows):
    mine = [own_row(sub=f"us-east-1:{i:08d}", key=f"us-east-1:{i:08d}") for i in range(200)]
    theirs = [own_row(sub=f"us-east-1:{i:08d}", key="us-east-1:other") for i in range(200)]

    def run(i):
        a = rows.evaluate(mine[i % 200]).decision
        b = rows.evaluate(theirs[i % 200]).decision
        return a, b

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(20000)))
    assert all(r == (pc.Decision.ALLOW, pc.Decision.IMPLICIT_DENY) for r in results)


def test_memory_stays_flat_over_a_million_evaluations(rows):
    req = own_row()
    for _ in range(10000):
        rows.evaluate(req)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(1_000_000):
        rows.evaluate(req)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in KiB on Linux: a leak of even 8 bytes an evaluation would show as 8 MB.
    assert after - before < 4096, f"peak RSS grew by {after - before} KiB"


def jwks():
    return (ROOT / "fixtures/keys/jwks.json").read_text()


def test_token_verifier_accepts_the_signed_token_and_refuses_it_expired():
    token = (ROOT / "policies/cognito-groups-dynamodb/tokens/user-1.jwt").read_text().strip()
    v = pc.TokenVerifier("us-east-1_Example", "exampleclient", "id", jwks=jwks())
    claims = v.verify(token, now=1700000100)
    assert claims["token_use"] == "id" and claims["sub"]
    with pytest.raises(pc.TokenError) as e:
        v.verify(token, now=1700003700)
    assert e.value.code == "token::expired"
    with pytest.raises(pc.TokenError):
        pc.TokenVerifier("us-east-1_Example", "otherclient", "id", jwks=jwks()).verify(token, now=1700000100)
    with pytest.raises(pc.TokenError):
        pc.TokenVerifier("us-east-1_Example", "exampleclient", "access", jwks=jwks()).verify(token, now=1700000100)
    with pytest.raises(pc.PolicyCheckError):
        pc.TokenVerifier("us-east-1_Example", "exampleclient", jwks_url="http://example.com/jwks.json")


def test_the_jwt_attack_battery(tmp_path):
    """Every forged token of the Rust attack battery (fixtures/cognito-attacks, written by the Rust test
    that runs pytest) is refused with a TokenError, never verified."""
    import os

    path = os.environ.get("POLICY_CHECK_ATTACKS")
    if not path:
        pytest.fail("POLICY_CHECK_ATTACKS is not set: run through `cargo test --test python`")
    cases = [json.loads(l) for l in pathlib.Path(path).read_text().splitlines() if l.strip()]
    assert len(cases) >= 20
    v = pc.TokenVerifier("us-east-1_Example", "exampleclient", "id", jwks=jwks())
    for case in cases:
        with pytest.raises(pc.TokenError) as e:
            v.verify(case["token"], now=case["now"])
        assert e.value.code == case["code"], (case["name"], e.value.code)


def test_group_authorizer_handler_is_a_lambda_handler():
    base = ROOT / "policies/apigw-petstore"
    auth = pc.apigw.GroupAuthorizer(
        "us-east-1_Example", "exampleclient", groups="groups",
        jwks=str(ROOT / "fixtures/keys/jwks.json"), token_use="id", base=str(base))
    tokens = sorted((base / "tokens").glob("*.jwt"))
    assert tokens
    event = {"type": "TOKEN", "authorizationToken": "Bearer " + tokens[0].read_text().strip(),
             "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/petstore/v2/status"}
    try:
        out = auth.handler(event, None, now=1700000100)
        assert out["policyDocument"]["Statement"]
    except Exception as e:  # an expired or refused token is API Gateway's 401
        assert str(e) == "Unauthorized"
    with pytest.raises(Exception) as e:
        auth.handler(dict(event, authorizationToken="Bearer nope"), None)
    assert str(e.value) == "Unauthorized"
    with pytest.raises(pc.PolicyCheckError):
        auth.handler({"type": "SOMETHING"}, None)


def test_an_entity_cycle_is_refused_not_a_crash():
    """A parent cycle (the stack-overflow attack on Cedar's transitive closure) and a chain deeper than
    Verified Permissions' 99 transitive parents are refused before Cedar sees them."""
    store = pc.PolicyStore.from_dir(str(ROOT / "policies/photo-app-avp/store-public"))

    def request(entities):
        return {
            "principal": {"entityType": "User", "entityId": "u"},
            "action": {"actionType": "Action", "actionId": "view"},
            "resource": {"entityType": "Photo", "entityId": "p"},
            "entities": {"entityList": entities},
        }

    n = 3000
    cycle = [{"identifier": {"entityType": "G", "entityId": f"g{i}"},
              "parents": [{"entityType": "G", "entityId": f"g{(i + 1) % n}"}]} for i in range(n)]
    with pytest.raises(pc.PolicyCheckError) as e:
        store.is_authorized(request(cycle))
    assert e.value.aws_code == "ValidationException", e.value.code
    chain = [{"identifier": {"entityType": "G", "entityId": f"g{i}"},
              "parents": [{"entityType": "G", "entityId": f"g{i + 1}"}] if i < 150 else []} for i in range(151)]
    with pytest.raises(pc.PolicyCheckError):
        store.is_authorized(request(chain))
