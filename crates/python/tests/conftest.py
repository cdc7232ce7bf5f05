import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture
def root():
    return ROOT


def pytest_report_header(config):
    return f"policy-check repository: {ROOT}; CLI answers: {os.environ.get('POLICY_CHECK_ANSWERS', '(not given)')}"
