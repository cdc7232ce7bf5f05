import enum
from typing import Any, Mapping, Optional, Sequence

from . import apigw as apigw

class Decision(enum.Enum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"
    @property
    def allowed(self) -> bool: ...

class PolicyCheckError(Exception):
    code: str
    message: str
    file: Optional[str]
    line: Optional[int]
    column: Optional[int]
    aws_code: Optional[str]

class TokenError(PolicyCheckError): ...

class Answer:
    @property
    def decision(self) -> Decision: ...
    @property
    def determining(self) -> list[dict[str, Any]]: ...
    @property
    def blocked_by(self) -> Optional[str]: ...
    def explain(self) -> str: ...

class PolicySet:
    @staticmethod
    def from_json(
        identity: Sequence[str] = ...,
        resource: Optional[str] = ...,
        trust: Optional[str] = ...,
        boundary: Sequence[str] = ...,
        scps: Sequence[Sequence[str]] = ...,
        rcps: Sequence[Sequence[str]] = ...,
        session: Optional[str] = ...,
    ) -> "PolicySet": ...
    @staticmethod
    def from_files(
        identity: Sequence[str] = ...,
        resource: Optional[str] = ...,
        trust: Optional[str] = ...,
        boundary: Sequence[str] = ...,
        scps: Sequence[Sequence[str]] = ...,
        rcps: Sequence[Sequence[str]] = ...,
        session: Optional[str] = ...,
    ) -> "PolicySet": ...
    def evaluate(self, request: Mapping[str, Any]) -> Answer: ...

class TokenVerifier:
    def __init__(
        self,
        user_pool_id: str,
        client_id: str,
        token_use: str = "id",
        jwks: Optional[str] = None,
        jwks_url: Optional[str] = None,
    ) -> None: ...
    def verify(self, token: str, now: Optional[int] = None) -> dict[str, Any]: ...

class IdentityPool:
    @staticmethod
    def from_file(
        path: str,
        jwks: Optional[str] = None,
        user_pool_id: Optional[str] = None,
        client_id: Optional[str] = None,
    ) -> "IdentityPool": ...
    def decide(
        self,
        request: Mapping[str, Any],
        id_token: Optional[str] = None,
        claims: Optional[Mapping[str, Any]] = None,
        guest: bool = False,
        custom_role_arn: Optional[str] = None,
        now: Optional[int] = None,
    ) -> dict[str, Any]: ...

class PolicyStore:
    @staticmethod
    def from_dir(path: str) -> "PolicyStore": ...
    def is_authorized(self, request: Mapping[str, Any], now: Optional[int] = None) -> dict[str, Any]: ...
    def is_authorized_with_token(
        self,
        request: Mapping[str, Any],
        now: Optional[int] = None,
        identity_claims: Optional[Mapping[str, Any]] = None,
        access_claims: Optional[Mapping[str, Any]] = None,
    ) -> dict[str, Any]: ...

class GroupAuthorizer:
    def __init__(
        self,
        user_pool_id: str,
        client_id: str,
        groups: str,
        jwks: str = "jwks.json",
        token_use: str = "access",
        invalid_token: int = 401,
        simple: bool = False,
        base: str = ".",
    ) -> None: ...
    def handler(self, event: Mapping[str, Any], context: Any = None, now: Optional[int] = None) -> dict[str, Any]: ...
