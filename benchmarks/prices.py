"""The list prices the cost benchmark multiplies measured quantities by, in one table.

Why one table: a price changes on the provider's side, not in our code; each row says
where it was read and when, so a stale row is easy to spot and to correct. All prices
are pay-as-you-go list prices in USD without free quotas or promotions (a small bot's
real bill is lower: MNS gives 20 million requests a month free, Model Studio a free
token quota for new accounts). Region: Singapore (the international DashScope endpoint
the bot uses, ``dashscope-intl``).
"""

from __future__ import annotations

from dataclasses import dataclass

CHECKED = "2026-12-03"


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    source: str
    note: str = ""


PRICES: dict[str, Price] = {
    "asr_audio_second": Price(
        0.000035,
        "USD per audio second, qwen3-asr-flash, Singapore",
        "https://www.alibabacloud.com/help/en/model-studio/qwen3-asr-flash (Pricing)",
        "billed by the duration of the audio sent, whatever its format or bitrate",
    ),
    "llm_input_token": Price(
        0.05 / 1_000_000,
        "USD per input token, qwen-turbo, international",
        "https://www.alibabacloud.com/help/en/model-studio/billing-for-model-studio",
        "the flagship table's minimum input price, $0.05 per million tokens",
    ),
    "llm_output_token": Price(
        0.2 / 1_000_000,
        "USD per output token, qwen-turbo, international",
        "https://www.alibabacloud.com/help/en/model-studio/billing-for-model-studio",
        "the flagship table's minimum output price, $0.2 per million tokens",
    ),
    "fc_compute_unit": Price(
        0.000020,
        "USD per CU, Function Compute 3.0 pay-as-you-go, tier 1 (< 100 million CU a month)",
        "https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/product-overview/"
        "pay-as-you-go-billing-method-1",
        "the 0.000016 discount ran until 2025-08-27; list price used",
    ),
    "fc_cu_per_invocation": Price(
        75 / 10_000,
        "CU per function invocation (75 CU per 10,000)",
        "same page: conversion factors",
    ),
    "fc_cu_per_vcpu_second": Price(1.0, "CU per active vCPU-second", "same page"),
    "fc_cu_per_gb_second": Price(0.15, "CU per memory GB-second", "same page"),
    "tablestore_cu": Price(
        0.0030 / 10_000,
        "USD per read or write CU (one request on rows under 4 KB)",
        "https://www.alibabacloud.com/help/en/tablestore/latest/billing-examples",
        "the published example's on-demand read price (high-performance instance); "
        "write CUs assumed the same price",
    ),
    "mns_request": Price(
        0.28 / 1_000_000,
        "USD per queue API request (each 64 KB of a message counts as one)",
        "https://wohugb.gitbooks.io/aliyun/content/mns/price-summary.html",
        "CNY 2.00 per million requests converted at 7.1 CNY/USD; the current page lists "
        "requests per million without a USD figure we could read; 20 M/month free ignored",
    ),
}

# What the deployment allots each function (deploy/s.yaml: memorySize; vCPU is not set
# there, FC 3.0 needs vCPU:GB between 1:1 and 1:4: assumed the largest, 1 vCPU per GB,
# which bills the most).
FUNCTION_MEMORY_GB = {"webhook": 0.5, "worker": 1.0}
FUNCTION_VCPU = {"webhook": 0.5, "worker": 1.0}


def fc_usd(function: str, seconds: float, invocations: int) -> float:
    """Function Compute's charge for ``invocations`` of ``function`` lasting ``seconds``
    in all (billed while an invocation runs, waiting on a provider or not)."""
    units = (
        invocations * PRICES["fc_cu_per_invocation"].usd
        + seconds * FUNCTION_VCPU[function] * PRICES["fc_cu_per_vcpu_second"].usd
        + seconds * FUNCTION_MEMORY_GB[function] * PRICES["fc_cu_per_gb_second"].usd
    )
    return units * PRICES["fc_compute_unit"].usd
