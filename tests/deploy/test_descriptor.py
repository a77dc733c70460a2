"""deploy/s.yaml holds what a deployment needs and no secret: read as text, line by line.

Why this exists: the descriptor once attached no role, had no dead-letter queue (a
message past its retries was dropped), and leased jobs for 900 s, so a note whose worker
died waited 17 minutes. Nothing runs s.yaml here; these checks keep those fixed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DESCRIPTOR = (DEPLOY / "s.yaml").read_text()
SECRETS = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "DASHSCOPE_API_KEY",
           "GOOGLE_API_KEY", "ALIBABA_ACCESS_KEY_ID", "ALIBABA_ACCESS_KEY_SECRET")  # fmt: skip


def variable(name: str) -> str:
    [value] = re.findall(rf"^    {name}: (.+?)(?:\s+#.*)?$", DESCRIPTOR, re.MULTILINE)
    return value


def test_both_functions_run_under_the_role() -> None:
    assert DESCRIPTOR.count("      role: ${vars.role}\n") == 2
    assert re.search(r"^  role: acs:ram::\$\{vars\.account\}:role/", DESCRIPTOR, re.MULTILINE)
    trust = json.loads((DEPLOY / "fc-trust-policy.json").read_text())
    assert trust["Statement"][0]["Principal"]["Service"] == ["fc.aliyuncs.com"]


def test_secrets_come_from_the_environment_of_s_deploy() -> None:
    for name in SECRETS:
        assert re.fullmatch(rf"\$\{{env\('{name}'(, '')?\)\}}", variable(name)), name


def test_a_message_past_its_retries_goes_to_a_dead_letter_queue() -> None:
    assert (
        "deadLetterQueue:\n                Arn: acs:mns:${vars.region}:${vars.account}:/queues/"
        in DESCRIPTOR
    )


def test_a_job_lease_lasts_about_a_minute() -> None:
    [default] = re.findall(
        r"\$\{env\('JOB_LEASE_SECONDS', '(\d+)'\)\}", variable("JOB_LEASE_SECONDS")
    )
    assert 30 <= int(default) <= 120
