"""policy-check's engines in-process: IAM policies, Cognito tokens, identity pools, Verified Permissions
policy stores and the API Gateway group authorizer, with the same answers as the policy-check CLI.

    import policy_check as pc
    ps = pc.PolicySet.from_files(identity=["row-level.json"])
    answer = ps.evaluate({"action": "dynamodb:GetItem", "resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Notes"})
    answer.decision is pc.Decision.IMPLICIT_DENY

Errors are `PolicyCheckError` (attributes `code`, `message`, `file`, `line`, `column`); refused tokens are
its subclass `TokenError`.
"""

from ._types import Decision
from ._native import (
    Answer,
    GroupAuthorizer,
    IdentityPool,
    PolicyCheckError,
    PolicySet,
    PolicyStore,
    TokenError,
    TokenVerifier,
)
from . import apigw

__all__ = [
    "Answer",
    "Decision",
    "GroupAuthorizer",
    "IdentityPool",
    "PolicyCheckError",
    "PolicySet",
    "PolicyStore",
    "TokenError",
    "TokenVerifier",
    "apigw",
]
