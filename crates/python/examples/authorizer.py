"""A Python Lambda authorizer equivalent to the seed's (AWS's API Gateway group authorizer sample): verify
the bearer token against the user pool, look up each of its `cognito:groups` in the group store, and
return the merged IAM policy for `execute-api` — decided by policy-check's engine in-process.

Package it with the `policy-check` wheel, a `groups/` directory (`<group>.json` policies) and `jwks.json`,
and set the handler to `authorizer.handler`. Configuration comes from the environment, as for the Rust
function (`apigw-authorizer`): USER_POOL_ID, CLIENT_ID, TOKEN_USE (access), JWKS (jwks.json), GROUPS
(groups), INVALID_TOKEN (401 or 403), RESPONSE (policy or simple).
"""

import os
import pathlib

from policy_check.apigw import GroupAuthorizer

_HERE = pathlib.Path(__file__).resolve().parent

_authorizer = GroupAuthorizer(
    user_pool_id=os.environ["USER_POOL_ID"],
    client_id=os.environ["CLIENT_ID"],
    groups=os.environ.get("GROUPS", "groups"),
    jwks=os.environ.get("JWKS", "jwks.json"),
    token_use=os.environ.get("TOKEN_USE", "access"),
    invalid_token=int(os.environ.get("INVALID_TOKEN", "401")),
    simple=os.environ.get("RESPONSE", "policy") == "simple",
    base=os.environ.get("LAMBDA_TASK_ROOT", str(_HERE)),
)


def handler(event, context):
    """API Gateway's authorizer event in, its authorizer output out; an invalid token raises
    Exception("Unauthorized"), which API Gateway answers with 401."""
    return _authorizer.handler(event, context)
