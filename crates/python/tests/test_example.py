"""The example Lambda authorizer (examples/authorizer.py), configured as the seed's petstore API, gives
what the Rust function gives for the same events."""

import importlib.util
import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
PETSTORE = ROOT / "policies/apigw-petstore"


def load(monkeypatch, token_use):
    monkeypatch.setenv("USER_POOL_ID", "us-east-1_Example")
    monkeypatch.setenv("CLIENT_ID", "exampleclient")
    monkeypatch.setenv("TOKEN_USE", token_use)
    monkeypatch.setenv("JWKS", str(ROOT / "fixtures/keys/jwks.json"))
    monkeypatch.setenv("GROUPS", str(PETSTORE / "groups"))
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(PETSTORE))
    spec = importlib.util.spec_from_file_location("authorizer", ROOT / "crates/python/examples/authorizer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def event(token):
    return {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {token}",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/petstore/v2/status",
    }


def test_the_example_authorizer(monkeypatch):
    tokens = {p.stem: p.read_text().strip() for p in (PETSTORE / "tokens").glob("*.jwt")}
    claims = json.loads(__import__("base64").urlsafe_b64decode(tokens["vet-groomer"].split(".")[1] + "=="))
    mod = load(monkeypatch, claims.get("token_use", "access"))
    now = claims["iat"] + 60
    out = mod._authorizer.handler(event(tokens["vet-groomer"]), None, now=now)
    assert out["principalId"]
    actions = json.dumps(out["policyDocument"])
    assert "execute-api:Invoke" in actions
    # A token of another app client is refused as API Gateway's 401.
    with pytest.raises(Exception) as e:
        mod._authorizer.handler(event(tokens["other-client"]), None, now=now)
    assert str(e.value) == "Unauthorized"
    # The handler itself, as Lambda calls it (the token has expired by now: 401).
    with pytest.raises(Exception) as e:
        mod.handler(event(tokens["vet-groomer"]), None)
    assert str(e.value) == "Unauthorized"
