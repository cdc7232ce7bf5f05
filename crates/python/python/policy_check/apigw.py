"""API Gateway: the group → policy Lambda authorizer (`GroupAuthorizer(...).handler` is a Lambda handler)."""

from ._native import GroupAuthorizer

__all__ = ["GroupAuthorizer"]
